/**
 * The MessagePort carrier of the core API, for the Electron shell: the core's utility process serves a dispatcher on
 * one end of a `MessageChannelMain`; the other end goes to the renderer's preload (or to the main process itself).
 *
 * Like the WebSocket carrier it only moves bytes; the dispatcher validates and maps errors, so both carriers behave the
 * same. A port is already private to the two processes that hold it (no token, no origin check), but the renderer on
 * the other end is still treated as untrusted input, so:
 *  - requests and responses travel as JSON text, not structured-clone objects: the same parsing and the same size cap
 *    as the WebSocket apply, and no object graph (getters, prototypes, transferables) built by the renderer reaches
 *    the core;
 *  - a message over the cap is refused with TOO_LARGE without being parsed (its id is read from its first or last
 *    bytes, so the caller's promise settles instead of hanging), and the port stays open for the next request;
 *  - each port has a bounded number of requests in flight; more are answered RATE_LIMITED at once.
 */
import { drop, type ErrorCode } from '../../common/errors.js'
import { Logger } from '../core/logger.js'
import type { EventPush, RequestId, Response } from './contract.js'
import type { Dispatcher } from './dispatcher.js'
import { listenPort, type MessagePortLike } from './message-port.js'
import { MAX_API_MESSAGE_BYTES, sniffRequestId } from './protocol.js'
import { DEFAULT_MAX_IN_FLIGHT } from './ws-server.js'

export type { EmitterPort, MessagePortLike, TargetPort } from './message-port.js'

export interface PortCarrierOptions {
  /** Requests this port may have in flight; more are answered RATE_LIMITED. Default: as the WebSocket carrier. */
  maxInFlight?: number
  /** Largest request accepted, in UTF-8 bytes. Default: as the WebSocket carrier (1 MiB). */
  maxMessageBytes?: number
  logger?: Logger
}

export interface PortConnection {
  /** Stops forwarding events, drops late responses and closes the port. Idempotent. */
  close(): void
  /** Settles once the connection is closed, by either side. */
  readonly closed: Promise<void>
}

/** Serves `dispatcher` on `port` until either side closes it. */
export function servePort(dispatcher: Dispatcher, port: MessagePortLike, options: PortCarrierOptions = {}): PortConnection {
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
  const maxBytes = options.maxMessageBytes ?? MAX_API_MESSAGE_BYTES
  const log = options.logger ?? Logger.silent()
  let inFlight = 0
  let open = true
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))

  function send(message: Response | EventPush): void {
    if (!open) return
    try {
      port.postMessage(JSON.stringify(message))
    } catch (err) {
      // A port whose other end went away can throw on post; that is a close, not a crash of the core.
      log.debug({ err }, 'API port post failed')
      finish()
    }
  }

  function onMessage(data: unknown): void {
    if (!open) return
    if (typeof data !== 'string') {
      send(failure(null, 'INVALID_INPUT', 'requests are JSON text'))
      return
    }
    if (utf8Length(data, maxBytes) > maxBytes) {
      send(failure(sniffRequestId(data), 'TOO_LARGE', `request larger than ${maxBytes} bytes`))
      return
    }
    let request: unknown
    try {
      request = JSON.parse(data)
    } catch {
      send(failure(null, 'INVALID_INPUT', 'request is not valid JSON'))
      return
    }
    if (inFlight >= maxInFlight) {
      send(failure(idOf(request), 'RATE_LIMITED', `more than ${maxInFlight} requests in flight on this port`))
      return
    }
    inFlight++
    drop(
      dispatcher
        .handle(request)
        .then(send)
        .finally(() => inFlight--),
      (err) => log.warn({ err }, 'API response failed'),
    )
  }

  const unsubscribe = dispatcher.subscribe((push) => send(push))
  const detach = listenPort(port, onMessage, () => finish())

  function finish(): void {
    if (!open) return
    open = false
    unsubscribe()
    detach()
    try {
      port.close()
    } catch {
      // already closed by the other side
    }
    resolveClosed()
  }

  return { close: finish, closed }
}

/** UTF-8 length of `text`, computed exactly only when the UTF-16 length alone cannot decide against `cap`. */
function utf8Length(text: string, cap: number): number {
  // Each UTF-16 unit is 1 to 3 UTF-8 bytes, so the length bounds the byte count on both sides.
  if (text.length > cap) return text.length
  if (text.length * 3 <= cap) return text.length
  return Buffer.byteLength(text, 'utf8')
}

function idOf(request: unknown): RequestId | null {
  if (typeof request !== 'object' || request === null || !('id' in request)) return null
  const id = request.id
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id
  if (typeof id === 'string' && id.length >= 1 && id.length <= 64) return id
  return null
}

function failure(id: RequestId | null, code: ErrorCode, message: string): Response {
  return { id, ok: false, error: { code, message } }
}
