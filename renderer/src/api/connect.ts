/**
 * Picks the carrier for this page: Electron's preload bridge when there is one, otherwise the browser mode's
 * WebSocket on the page's own origin, with the token this tab holds or trades its launch code for (launch-token.ts),
 * reconnecting by itself when Hearth goes away and comes back (reconnecting.ts).
 */
import { HearthError } from '../../../node/common/errors.js'
import { createApi, type Api } from './client.js'
import { exchangeLaunchCode, keepToken, launchEndpoint, NEW_LINK_HINT, takeLaunchParameters } from './launch-token.js'
import { reconnectingTransport } from './reconnecting.js'
import { bridgeTransport, sameOriginSocketUrl, webSocketTransport, type Transport } from './transport.js'

export interface Connection {
  api: Api
  transport: Transport
  kind: 'bridge' | 'websocket'
}

export async function connect(win: Window = window, dev: boolean = import.meta.env.DEV): Promise<Connection> {
  if (win.hearth !== undefined) {
    const transport = bridgeTransport(win.hearth)
    return { api: createApi(transport), transport, kind: 'bridge' }
  }
  const { url, token } = await accessFor(win, dev)
  let transport: Transport
  try {
    transport = await reconnectingTransport(() => webSocketTransport(url, token))
  } catch {
    // Browsers do not say why a socket was refused: the server is away, or no longer accepts this tab's key.
    throw new HearthError('UNREACHABLE', `Cannot reach Hearth from this tab. If it is not running, start it. ${NEW_LINK_HINT}`)
  }
  return { api: createApi(transport), transport, kind: 'websocket' }
}

/**
 * The launch code is read (and wiped from the address bar) once per page load, and a code works only once: a second
 * connect() in the same page (React's StrictMode runs effects twice) must share the first one's exchange.
 */
const access = new WeakMap<Window, Promise<{ url: string; token: string }>>()

function accessFor(win: Window, dev: boolean): Promise<{ url: string; token: string }> {
  let pending = access.get(win)
  if (pending === undefined) {
    pending = exchangeOnce(win, dev)
    access.set(win, pending)
    // A failure is not kept: the next attempt reads the tab's storage again.
    pending.catch(() => access.delete(win))
  }
  return pending
}

async function exchangeOnce(win: Window, dev: boolean): Promise<{ url: string; token: string }> {
  const storage = win.sessionStorage
  const { code, token: held, api } = takeLaunchParameters({ location: win.location, history: win.history, storage })
  // Only the dev server (another port) may name the API's URL; a built page always talks to its own origin.
  const url = dev && api !== null ? api : sameOriginSocketUrl(win.location)
  let token = held
  if (code !== null) {
    try {
      token = await exchangeLaunchCode(launchEndpoint(url), code)
      keepToken(storage, token)
    } catch (err) {
      // An old link opened in a tab that already has access: keep the access, forget the link.
      if (held === null) throw err
    }
  }
  if (token === null) {
    throw new HearthError('UNAUTHORIZED', `This page has no access to Hearth. Open it with the link npm start prints. ${NEW_LINK_HINT}`)
  }
  return { url, token }
}
