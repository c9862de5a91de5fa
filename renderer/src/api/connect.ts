/**
 * Picks the carrier for this page: Electron's preload bridge when there is one, otherwise the browser mode's
 * WebSocket on the page's own origin with the token from the launch URL.
 */
import { HearthError } from '../../../node/common/errors.js'
import { createApi, type Api } from './client.js'
import { takeLaunchParameters } from './launch-token.js'
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
  const { token, api } = takeLaunchParameters({ location: win.location, history: win.history, storage: win.sessionStorage })
  if (token === null) {
    throw new HearthError('UNAUTHORIZED', 'Open Hearth with the link `npm start` printed: this page has no access key.')
  }
  // Only the dev server (another port) may name the API's URL; a built page always talks to its own origin.
  const url = dev && api !== null ? api : sameOriginSocketUrl(win.location)
  const transport = await webSocketTransport(url, token)
  return { api: createApi(transport), transport, kind: 'websocket' }
}
