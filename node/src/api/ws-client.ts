/**
 * A typed client for the WebSocket carrier of the core API, used by the CLI, the tests and (later) the browser UI.
 *
 * It uses nothing Node-specific: the WebSocket constructor is the browser's (or Node 22's global) unless one is
 * injected, which the CLI does with `ws` so it controls exactly what headers go out.
 */
import { ErrorCodes, HearthError, type ErrorCode } from '../../common/errors.js'
import type { EventName, EventPayload, Method, Params, Result } from './contract.js'
import { API_PROTOCOL_PREFIX } from './protocol.js'

/** The part of the WebSocket interface this client needs; the browser's, undici's and `ws`'s all fit. */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike

/** Methods whose parameters are all optional may be called without them. */
// `{}` (not `object`): a no-parameter schema's input type is an index signature, which `{}` fits and `object` does not.
export type ParamsArg<M extends Method> = {} extends Params<M> ? [params?: Params<M>] : [params: Params<M>]

export interface ApiClient {
  /** Resolves with the result, or rejects with a HearthError carrying the server's stable code. */
  call<M extends Method>(method: M, ...params: ParamsArg<M>): Promise<Result<M>>
  /** Listens to one pushed event; returns the function that stops listening. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void
  /** Called once when the connection ends, whoever ended it. */
  onClose(listener: (reason: string) => void): () => void
  close(): void
  readonly closed: boolean
}

export interface ConnectOptions {
  WebSocket?: WebSocketFactory
  /** How long to wait for the connection to open. Default 5 s. */
  timeoutMs?: number
}

const OPEN = 1

export function connectApi(url: string, token: string, options: ConnectOptions = {}): Promise<ApiClient> {
  const factory = options.WebSocket ?? defaultFactory()
  const socket = factory(url, [API_PROTOCOL_PREFIX + token])
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: unknown) => void }>()
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const closeListeners = new Set<(reason: string) => void>()
  let nextId = 1
  let closed = false

  function finish(reason: string): void {
    if (closed) return
    closed = true
    for (const p of pending.values()) p.reject(new HearthError('NOT_RUNNING', `the connection to the Hearth core closed (${reason})`))
    pending.clear()
    for (const l of closeListeners) l(reason)
  }

  socket.onmessage = (event) => {
    let message: unknown
    try {
      message = JSON.parse(typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data as Uint8Array))
    } catch {
      return // a server that speaks garbage is ignored rather than crashing the client
    }
    if (typeof message !== 'object' || message === null) return
    const m = message as Record<string, unknown>
    if (typeof m.event === 'string') {
      for (const l of listeners.get(m.event) ?? []) l(m.payload)
      return
    }
    if (typeof m.id !== 'number') return
    const waiter = pending.get(m.id)
    if (!waiter) return
    pending.delete(m.id)
    if (m.ok === true) {
      waiter.resolve(m.result)
    } else {
      const error = (m.error ?? {}) as { code?: unknown; message?: unknown }
      const code = (ErrorCodes as readonly unknown[]).includes(error.code) ? (error.code as ErrorCode) : 'INTERNAL'
      waiter.reject(new HearthError(code, typeof error.message === 'string' ? error.message : 'request failed'))
    }
  }

  const client: ApiClient = {
    call(method, ...args) {
      if (closed || socket.readyState !== OPEN) {
        return Promise.reject(new HearthError('NOT_RUNNING', 'the connection to the Hearth core is closed'))
      }
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        socket.send(JSON.stringify({ id, method, params: args[0] ?? {} }))
      })
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      const l = listener as (payload: unknown) => void
      set.add(l)
      return () => set.delete(l)
    },
    onClose(listener) {
      closeListeners.add(listener)
      return () => closeListeners.delete(listener)
    },
    close() {
      socket.close(1000, 'client done')
      finish('closed by client')
    },
    get closed() {
      return closed
    },
  }

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.onopen = null
      socket.close()
      finish('timeout')
      reject(new HearthError('TIMEOUT', `the core API at ${url} did not answer`))
    }, options.timeoutMs ?? 5_000)
    socket.onopen = () => {
      clearTimeout(timer)
      resolve(client)
    }
    socket.onerror = (event) => {
      // Browsers say nothing about why (by design); `ws` puts the HTTP status (401, 403) in the message.
      const detail = typeof (event as { message?: unknown }).message === 'string' ? `: ${(event as { message: string }).message}` : ''
      clearTimeout(timer)
      reject(new HearthError('UNREACHABLE', `cannot reach the core API at ${url}${detail}`))
    }
    socket.onclose = (event) => {
      clearTimeout(timer)
      reject(new HearthError('UNREACHABLE', `the core API at ${url} closed the connection`))
      finish(event.reason || `code ${event.code}`)
    }
  })
}

function defaultFactory(): WebSocketFactory {
  const Ctor = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => WebSocketLike }).WebSocket
  if (Ctor === undefined) throw new HearthError('INTERNAL', 'no WebSocket implementation: pass one in options.WebSocket')
  return (url, protocols) => new Ctor(url, protocols)
}
