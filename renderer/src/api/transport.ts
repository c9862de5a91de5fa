/**
 * How the UI reaches the core, whatever carries the calls. Two carriers plug in:
 *  - the browser mode: the core API's WebSocket on the page's own origin (`connectApi`), with the token the page got
 *    for its launch code (see launch-token.ts), reconnecting by itself (reconnecting.ts);
 *  - Electron: the preload bridge `window.hearth`, which forwards to the core over a MessagePort.
 * Everything above this file sees one shape, `Transport`, and never knows which carrier is under it.
 */
import { ErrorCodes, HearthError, type ErrorCode } from '../../../node/common/errors.js'
import { connectApi, type ConnectOptions } from '../../../node/src/api/ws-client.js'

export interface Transport {
  /** Resolves with the result or rejects with a HearthError carrying the core's stable code. */
  call(method: string, params: unknown): Promise<unknown>
  /** Listens to one pushed event; returns the function that stops listening. */
  on(event: string, listener: (payload: unknown) => void): () => void
  /** Called when the carrier goes away (the core stopped, the socket closed); a reconnecting carrier may come back. */
  onClose(listener: (reason: string) => void): () => void
  /** Only for carriers that reconnect by themselves: called each time the connection is back. */
  onReconnect?(listener: () => void): () => void
  close(): void
}

/**
 * What Electron's preload exposes as `window.hearth` (contextBridge). Errors cannot keep their properties across the
 * bridge, so `call` rejects with a plain `{ code, message }` object (an Error whose message is "CODE: text" works too).
 */
export interface HearthBridge {
  call(method: string, params: unknown): Promise<unknown>
  on(event: string, listener: (payload: unknown) => void): () => void
  /** Optional: the shell reports the core going away (the utility process died and is being restarted). */
  onClose?(listener: (reason: string) => void): () => void
  /** Optional: `hearth://join/…` links the app was opened with; see deep-links.ts. */
  onDeepLink?(listener: (url: string) => void): () => void
  /** Optional: a conversation id to show (the person clicked that conversation's notification). */
  onOpenConversation?(listener: (conversationId: string) => void): () => void
  /** Optional (desktop): opens a received file with the system's app, or only shows it in its folder; see lib/open-file.ts. */
  openFile?(ref: { conversationId: string; messageId: string; index: number }): Promise<{ action: 'opened' | 'shown' }>
}

declare global {
  interface Window {
    hearth?: HearthBridge
  }
}

/** Any rejection value as a HearthError with a known code (INTERNAL when the code is unknown or missing). */
export function toHearthError(err: unknown): HearthError {
  if (err instanceof HearthError) return err
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown }
    const text = typeof message === 'string' ? message : 'request failed'
    if (isErrorCode(code)) return new HearthError(code, text)
    const prefixed = /^([A-Z_]+): (.*)$/s.exec(text)
    if (prefixed && isErrorCode(prefixed[1])) return new HearthError(prefixed[1], prefixed[2]!)
    return new HearthError('INTERNAL', text)
  }
  return new HearthError('INTERNAL', typeof err === 'string' ? err : 'request failed')
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ErrorCodes as readonly string[]).includes(value)
}

export function bridgeTransport(bridge: HearthBridge): Transport {
  const closeListeners = new Set<(reason: string) => void>()
  const offBridgeClose = bridge.onClose?.((reason) => {
    for (const l of closeListeners) l(reason)
  })
  return {
    async call(method, params) {
      try {
        return await bridge.call(method, params)
      } catch (err) {
        throw toHearthError(err)
      }
    },
    on: (event, listener) => bridge.on(event, listener),
    onClose(listener) {
      closeListeners.add(listener)
      return () => closeListeners.delete(listener)
    },
    close() {
      offBridgeClose?.()
      closeListeners.clear()
    },
  }
}

/** The core API's WebSocket on `url` (the page's own origin in the browser mode). */
export async function webSocketTransport(url: string, token: string, options: ConnectOptions = {}): Promise<Transport> {
  const client = await connectApi(url, token, options)
  return {
    call: (method, params) => (client.call as (m: string, p: unknown) => Promise<unknown>)(method, params),
    on: (event, listener) => (client.on as (e: string, l: (p: unknown) => void) => () => void)(event, listener),
    onClose: (listener) => client.onClose(listener),
    close: () => client.close(),
  }
}

/** The WebSocket URL of the page's own origin: the browser mode serves the UI and the API on one port. */
export function sameOriginSocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
}
