/**
 * The preload bridge: the whole surface the renderer gets, exposed as `window.hearth` by preload.ts. The renderer is an
 * untrusted web page, so the bridge is a handful of functions over plain data, typed from the API contract:
 *
 *   call(method, params)         → Promise of the result; rejects with { name: 'HearthError', code, message }
 *   on(event, listener)          → unsubscribe; core/app events pushed by the core
 *   onClose(listener)            → unsubscribe; the connection to the core was lost (its process died; the shell
 *                                  restarts it and reloads the page once it is back)
 *   onDeepLink(listener)         → unsubscribe; validated `hearth://join/…` invite links opened from outside
 *   onOpenConversation(listener) → unsubscribe; a conversation id, when the person clicked its notification
 *   openFile(ref)                → Promise of { action: 'opened' | 'shown' }: main opens a received file with the
 *                                  system's app, or only shows it in its folder when it could run code (open-file.ts)
 *   platform                     → 'darwin' | 'win32' | 'linux' (for keyboard hints and window chrome)
 *
 * Nothing else: no ipcRenderer, no port, no Node object, no way to name an IPC channel. Everything it receives from
 * main is checked again here, and everything it hands to the page is plain JSON data (parsed from the port's text)
 * or a string, so contextBridge copies it and no object from the isolated world leaks into the page.
 *
 * Errors are plain objects, not Error instances, because contextBridge keeps only an Error's message when it crosses
 * worlds and the stable code is what the UI switches on.
 */
import type { ErrorCode } from '../../node/common/errors.js'
import { ErrorCodes, isHearthError } from '../../node/common/errors.js'
import type { EventName, EventPayload, Method, Params, Result } from '../../node/src/api/contract.js'
import { parseDeepLink } from './deep-link.js'
import { parseOpenFileRequest, type OpenFileRequest, type OpenFileResult } from './open-file.js'
import { createPortClient, type ClientPort, type PortClient } from './port-client.js'

export interface BridgeError {
  name: 'HearthError'
  code: ErrorCode
  message: string
}

export interface HearthBridge {
  readonly platform: string
  call<M extends Method>(method: M, params?: Params<M>): Promise<Result<M>>
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void
  onClose(listener: (reason: string) => void): () => void
  onDeepLink(listener: (url: string) => void): () => void
  onOpenConversation(listener: (conversationId: string) => void): () => void
  openFile(ref: OpenFileRequest): Promise<OpenFileResult>
}

/** What the preload wires to ipcRenderer; injected so the bridge can be tested without Electron. */
export interface BridgeTransport {
  /** Asks the main process for a port to the core; it answers through `onPort` (again after a core restart). */
  requestPort(): void
  onPort(listener: (port: ClientPort) => void): void
  onDeepLink(listener: (url: unknown) => void): void
  onOpenConversation(listener: (conversationId: unknown) => void): void
  /** Asks main to open a received file (IPC.openFile); resolves with main's answer, unchecked. */
  openFile(ref: OpenFileRequest): Promise<unknown>
}

export interface BridgeOptions {
  platform: string
  /** How long a call waits for the core's port before failing with NOT_RUNNING. */
  connectTimeoutMs?: number
  /** Calls that may wait for the port at once; more fail with RATE_LIMITED. */
  maxQueued?: number
}

/** The keys `window.hearth` has; a test holds the bridge to exactly these. */
export const BRIDGE_KEYS = ['call', 'on', 'onClose', 'onDeepLink', 'onOpenConversation', 'openFile', 'platform'] as const

const MAX_NAME_CHARS = 64
const MAX_BUFFERED_LINKS = 4
const CONVERSATION_ID = /^[0-9a-f]{32}$/
/**
 * Core methods the page may not call. files.save writes a received file (a peer's bytes) to any path it is given: the
 * page saves through a download the person places, and Open goes through main, which picks the path itself.
 */
const REFUSED_FROM_PAGE = new Set(['files.save'])

export function createBridge(transport: BridgeTransport, options: BridgeOptions): HearthBridge {
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000
  const maxQueued = options.maxQueued ?? 256
  const eventListeners = new Map<string, Set<(payload: unknown) => void>>()
  const closeListeners = new Set<(reason: string) => void>()
  const linkListeners = new Set<(url: string) => void>()
  const openListeners = new Set<(id: string) => void>()
  // Links that arrive before the UI subscribes (the app was started by clicking one) wait for the first listener.
  const bufferedLinks: string[] = []
  const waiting = new Set<{ go: (client: PortClient) => void; fail: (err: BridgeError) => void }>()
  let client: PortClient | undefined

  transport.onPort((port) => {
    const previous = client
    const next = createPortClient(port)
    client = next
    previous?.close() // replaced, not lost: its close is not reported
    next.onAny((event, payload) => emit(eventListeners.get(event), payload))
    next.onClose(() => {
      if (client !== next) return
      client = undefined
      emit(closeListeners, 'the Hearth core stopped')
    })
    for (const w of [...waiting]) w.go(next)
  })

  transport.onDeepLink((raw) => {
    const link = parseDeepLink(raw)
    if (link === null) return
    if (linkListeners.size === 0) {
      bufferedLinks.push(link.url)
      if (bufferedLinks.length > MAX_BUFFERED_LINKS) bufferedLinks.shift()
      return
    }
    emit(linkListeners, link.url)
  })

  transport.onOpenConversation((id) => {
    if (typeof id === 'string' && CONVERSATION_ID.test(id)) emit(openListeners, id)
  })

  function connected(): Promise<PortClient> {
    if (client !== undefined && !client.closed) return Promise.resolve(client)
    if (waiting.size >= maxQueued) return Promise.reject(bridgeError('RATE_LIMITED', 'too many calls waiting for the core'))
    return new Promise((resolve, reject) => {
      const entry = {
        go: (c: PortClient) => {
          clearTimeout(timer)
          waiting.delete(entry)
          resolve(c)
        },
        fail: (err: BridgeError) => {
          waiting.delete(entry)
          reject(err)
        },
      }
      const timer = setTimeout(() => entry.fail(bridgeError('NOT_RUNNING', 'the Hearth core is not running')), connectTimeoutMs)
      waiting.add(entry)
    })
  }

  async function call(method: unknown, params?: unknown): Promise<unknown> {
    if (typeof method !== 'string' || method.length === 0 || method.length > MAX_NAME_CHARS) {
      throw bridgeError('INVALID_INPUT', 'method must be a short string')
    }
    if (REFUSED_FROM_PAGE.has(method)) throw bridgeError('UNAUTHORIZED', `${method} is not available to the app's page`)
    const c = await connected()
    try {
      return await c.request(method, params)
    } catch (err) {
      throw isHearthError(err) ? bridgeError(err.code, err.message) : bridgeError('INTERNAL', 'the call failed')
    }
  }

  function on(event: unknown, listener: unknown): () => void {
    if (typeof event !== 'string' || event.length === 0 || event.length > MAX_NAME_CHARS || typeof listener !== 'function') {
      return () => {}
    }
    return subscribe(eventListeners, event, listener as (payload: unknown) => void)
  }

  function onClose(listener: unknown): () => void {
    if (typeof listener !== 'function') return () => {}
    const l = listener as (reason: string) => void
    closeListeners.add(l)
    return () => closeListeners.delete(l)
  }

  function onDeepLink(listener: unknown): () => void {
    if (typeof listener !== 'function') return () => {}
    const l = listener as (url: string) => void
    linkListeners.add(l)
    for (const url of bufferedLinks.splice(0)) emit(linkListeners, url)
    return () => linkListeners.delete(l)
  }

  function onOpenConversation(listener: unknown): () => void {
    if (typeof listener !== 'function') return () => {}
    const l = listener as (id: string) => void
    openListeners.add(l)
    return () => openListeners.delete(l)
  }

  async function openFile(ref: unknown): Promise<OpenFileResult> {
    const request = parseOpenFileRequest(ref)
    if (request === null) throw bridgeError('INVALID_INPUT', 'not a file of a message')
    let answer: unknown
    try {
      answer = await transport.openFile(request)
    } catch {
      throw bridgeError('INTERNAL', 'the file could not be opened')
    }
    return openAnswer(answer)
  }

  transport.requestPort()

  const bridge = {
    call,
    on,
    onClose,
    onDeepLink,
    onOpenConversation,
    openFile,
    platform: String(options.platform),
  }
  return Object.freeze(bridge) as unknown as HearthBridge
}

function subscribe<T>(map: Map<string, Set<(value: T) => void>>, key: string, listener: (value: T) => void): () => void {
  let set = map.get(key)
  if (set === undefined) map.set(key, (set = new Set()))
  set.add(listener)
  return () => {
    set.delete(listener)
  }
}

function emit<T>(listeners: Set<(value: T) => void> | undefined, value: T): void {
  for (const l of [...(listeners ?? [])]) {
    try {
      l(value)
    } catch {
      // A throwing UI listener must not stop the others (nor the bridge) from working.
    }
  }
}

/** Main's answer to an open, checked again: a result, or a refusal with a known code and a short message. */
function openAnswer(answer: unknown): OpenFileResult {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>
  if (a.ok === true && (a.action === 'opened' || a.action === 'shown')) return { action: a.action }
  if (a.ok === false && typeof a.code === 'string' && (ErrorCodes as readonly string[]).includes(a.code) && typeof a.message === 'string') {
    throw bridgeError(a.code as ErrorCode, a.message.slice(0, 500))
  }
  throw bridgeError('INTERNAL', 'the file could not be opened')
}

function bridgeError(code: ErrorCode, message: string): BridgeError {
  return { name: 'HearthError', code, message }
}
