/**
 * The client end of the core API over a MessagePort: the preload bridge uses it for the renderer, and the main process
 * uses it for its own small needs (notifications, the badge). It speaks what node/src/api/port-carrier.ts serves:
 * JSON text requests with an id first, JSON text responses and event pushes.
 *
 * It must bundle into the sandboxed preload, so it imports nothing with Node or npm at run time (errors.ts is plain).
 */
import { HearthError, type ErrorCode } from '../../node/common/errors.js'
import type { EventName, EventPayload, Method, Params, Result } from '../../node/src/api/contract.js'
import { listenPort, type MessagePortLike } from '../../node/src/api/message-port.js'

/** Same as MAX_API_MESSAGE_BYTES in node/src/api/ws-server.ts (a test checks they agree): refused here before sending. */
export const MAX_REQUEST_BYTES = 1024 * 1024

/** A DOM MessagePort (preload) or Electron's MessagePortMain (main process). */
export type ClientPort = MessagePortLike

export interface PortClient {
  call<M extends Method>(method: M, params?: Params<M>): Promise<Result<M>>
  /** Untyped form for callers that pass a method name through (the bridge); the core validates it. */
  request(method: string, params: unknown): Promise<unknown>
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void
  /** Every event push, by name (the bridge fans them out itself). */
  onAny(listener: (event: string, payload: unknown) => void): () => void
  onClose(listener: () => void): () => void
  close(): void
  readonly closed: boolean
}

const encoder = new TextEncoder()

export function createPortClient(port: ClientPort): PortClient {
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: unknown) => void }>()
  const anyListeners = new Set<(event: string, payload: unknown) => void>()
  const closeListeners = new Set<() => void>()
  let nextId = 1
  let closed = false

  function onData(data: unknown): void {
    if (typeof data !== 'string') return
    let message: unknown
    try {
      message = JSON.parse(data)
    } catch {
      return // a core that speaks garbage is ignored rather than crashing the page
    }
    if (typeof message !== 'object' || message === null) return
    const m = message as Record<string, unknown>
    if (typeof m.event === 'string') {
      for (const l of [...anyListeners]) {
        try {
          l(m.event, m.payload)
        } catch {
          // One listener's bug must not stop the others from hearing the event.
        }
      }
      return
    }
    if (typeof m.id !== 'number') return
    const waiter = pending.get(m.id)
    if (waiter === undefined) return
    pending.delete(m.id)
    if (m.ok === true) waiter.resolve(m.result)
    else waiter.reject(toError(m.error))
  }

  function finish(): void {
    if (closed) return
    closed = true
    detach()
    for (const p of pending.values()) p.reject(new HearthError('NOT_RUNNING', 'the connection to the Hearth core closed'))
    pending.clear()
    try {
      port.close()
    } catch {
      // already closed
    }
    for (const l of [...closeListeners]) l()
  }

  const detach = listenPort(port, onData, finish)

  function request(method: string, params: unknown): Promise<unknown> {
    if (closed) return Promise.reject(new HearthError('NOT_RUNNING', 'the connection to the Hearth core is closed'))
    const id = nextId++
    // `id` first: the carrier reads it from the head of an oversized request to answer it without parsing the rest.
    const text = JSON.stringify(params === undefined ? { id, method } : { id, method, params })
    if (text.length * 3 > MAX_REQUEST_BYTES && encoder.encode(text).length > MAX_REQUEST_BYTES) {
      return Promise.reject(new HearthError('TOO_LARGE', `request larger than ${MAX_REQUEST_BYTES} bytes`))
    }
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      try {
        port.postMessage(text)
      } catch (err) {
        pending.delete(id)
        reject(new HearthError('NOT_RUNNING', 'the connection to the Hearth core is closed', { cause: err }))
      }
    })
  }

  return {
    call: (method, params) => request(method, params) as Promise<never>,
    request,
    on(event, listener) {
      return this.onAny((name, payload) => {
        if (name === event) listener(payload as EventPayload<typeof event>)
      })
    },
    onAny(listener) {
      anyListeners.add(listener)
      return () => anyListeners.delete(listener)
    },
    onClose(listener) {
      if (closed) {
        listener()
        return () => {}
      }
      closeListeners.add(listener)
      return () => closeListeners.delete(listener)
    },
    close: finish,
    get closed() {
      return closed
    },
  }
}

function toError(error: unknown): HearthError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown }
  const code = typeof e.code === 'string' ? (e.code as ErrorCode) : 'INTERNAL'
  return new HearthError(code, typeof e.message === 'string' ? e.message : 'the core answered with an error')
}
