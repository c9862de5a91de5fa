/**
 * Keys at rest wrapped by the OS keychain through Electron's `safeStorage` (macOS Keychain, Windows DPAPI, the
 * Secret Service or KWallet on Linux).
 *
 * safeStorage only exists in the main process, while the core (which wraps and unwraps its identity) runs in a
 * utility process. So the core's KeyProvider sends each wrap/unwrap to main over the utility parent port and main
 * does the OS call. This module holds both halves with the OS service injected:
 *
 *  - main side: `assessSafeStorage` decides whether safeStorage is real, and `createKeyService` answers requests.
 *    On Linux without a keyring, safeStorage's backend is `basic_text`: it "encrypts" with a key hard-coded in
 *    Chromium, which protects nothing. That backend is refused, here and again for every request, so a key can never
 *    be wrapped with it; the person chooses a passphrase instead (never a silent plaintext fallback: docs/SECURITY.md).
 *  - core side: `safeStorageKeyProvider` frames the ciphertext so a blob says how it was wrapped.
 */
import { HearthError, type ErrorCode } from '../../node/common/errors.js'
import type { KeyProvider } from '../../node/common/crypto/keystore.js'

/** The part of Electron's `safeStorage` used here (Electron 45: the async API; the sync one is deprecated). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>
  encryptStringAsync(plainText: string): Promise<Uint8Array>
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>
  /** Linux only. */
  getSelectedStorageBackend(): string
}

export type SafeStorageStatus = { usable: true; backend: string } | { usable: false; backend: string; reason: string }

/** Backends that are not a real secret store: `basic_text` is a fixed key; `unknown` means asked before `ready`. */
const REFUSED_BACKENDS = new Set(['basic_text', 'unknown'])

export async function assessSafeStorage(safeStorage: SafeStorageLike, platform: string): Promise<SafeStorageStatus> {
  let backend = platform === 'darwin' ? 'keychain' : platform === 'win32' ? 'dpapi' : 'unknown'
  try {
    if (platform === 'linux') {
      backend = safeStorage.getSelectedStorageBackend()
      if (REFUSED_BACKENDS.has(backend)) {
        return { usable: false, backend, reason: `no system keyring (safeStorage backend ${backend})` }
      }
    }
    if (!(await safeStorage.isAsyncEncryptionAvailable())) {
      return { usable: false, backend, reason: 'safeStorage encryption is not available' }
    }
    return { usable: true, backend }
  } catch (err) {
    return { usable: false, backend, reason: `safeStorage failed: ${err instanceof Error ? err.message : String(err)}` }
  }
}

// ------------------------------------------------------------------------------------------- the wire between them

export type KeyOp = 'encrypt' | 'decrypt'

export interface KeyRequest {
  type: 'keys.request'
  id: number
  op: KeyOp
  /** base64 */
  data: string
}

export type KeyResult =
  | { type: 'keys.result'; id: number; ok: true; data: string }
  | { type: 'keys.result'; id: number; ok: false; code: ErrorCode; message: string }

/** Largest blob or secret that crosses (an identity is a few hundred bytes). */
const MAX_KEY_DATA_CHARS = 64 * 1024
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export function parseKeyRequest(raw: unknown): KeyRequest | null {
  if (typeof raw !== 'object' || raw === null) return null
  const r = raw as Record<string, unknown>
  if (r.type !== 'keys.request' || !Number.isSafeInteger(r.id) || (r.op !== 'encrypt' && r.op !== 'decrypt')) return null
  if (typeof r.data !== 'string' || r.data.length > MAX_KEY_DATA_CHARS || !BASE64.test(r.data)) return null
  return { type: 'keys.request', id: r.id as number, op: r.op, data: r.data }
}

export function parseKeyResult(raw: unknown): KeyResult | null {
  if (typeof raw !== 'object' || raw === null) return null
  const r = raw as Record<string, unknown>
  if (r.type !== 'keys.result' || !Number.isSafeInteger(r.id)) return null
  const id = r.id as number
  if (r.ok === true && typeof r.data === 'string' && r.data.length <= MAX_KEY_DATA_CHARS && BASE64.test(r.data)) return { type: 'keys.result', id, ok: true, data: r.data }
  if (r.ok === false && typeof r.code === 'string' && typeof r.message === 'string') {
    return { type: 'keys.result', id, ok: false, code: r.code as ErrorCode, message: r.message.slice(0, 500) }
  }
  return null
}

// ----------------------------------------------------------------------------------------------------- main side

export interface KeyService {
  readonly status: SafeStorageStatus
  handle(request: KeyRequest): Promise<KeyResult>
}

export function createKeyService(safeStorage: SafeStorageLike, status: SafeStorageStatus): KeyService {
  return {
    status,
    async handle(request) {
      const fail = (code: ErrorCode, message: string): KeyResult => ({ type: 'keys.result', id: request.id, ok: false, code, message })
      // Checked on every request, not only at start-up: a core must never get a basic_text "wrap" by any path.
      if (!status.usable) return fail('UNAUTHORIZED', `the system keychain is not usable: ${status.reason}`)
      try {
        // The secret crosses as base64 text (safeStorage takes strings), which is also what it encrypts.
        if (request.op === 'encrypt') {
          const encrypted = await safeStorage.encryptStringAsync(request.data)
          return { type: 'keys.result', id: request.id, ok: true, data: Buffer.from(encrypted).toString('base64') }
        }
        const { result } = await safeStorage.decryptStringAsync(Buffer.from(request.data, 'base64'))
        if (!BASE64.test(result)) return fail('KEYSTORE_CORRUPT', 'the keychain blob held something else')
        return { type: 'keys.result', id: request.id, ok: true, data: result }
      } catch {
        // The OS refused: another user's or another machine's keychain, or a damaged blob. No detail to the core log.
        return request.op === 'encrypt'
          ? fail('INTERNAL', 'the system keychain could not encrypt')
          : fail(
              'DECRYPT_FAILED',
              'the system keychain could not unlock this identity (was the data folder copied from another computer or account?)',
            )
      }
    },
  }
}

// ----------------------------------------------------------------------------------------------------- core side

/** Sends key requests to main and matches the answers; lives in the core's utility process. */
export class KeyRequester {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (data: string) => void; reject: (err: HearthError) => void; timer: ReturnType<typeof setTimeout> }>()

  /**
   * @param post sends a request to main.
   * @param timeoutMs a keychain may show the person a prompt (macOS), so this is long.
   */
  constructor(
    private readonly post: (request: KeyRequest) => void,
    private readonly timeoutMs = 5 * 60_000,
  ) {}

  request(op: KeyOp, data: Uint8Array): Promise<Uint8Array> {
    const id = this.nextId++
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new HearthError('TIMEOUT', 'the system keychain did not answer'))
      }, this.timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
      this.post({ type: 'keys.request', id, op, data: Buffer.from(data).toString('base64') })
    }).then((base64) => new Uint8Array(Buffer.from(base64, 'base64')))
  }

  /** An answer from main; returns false when it was not for us. */
  receive(raw: unknown): boolean {
    const result = parseKeyResult(raw)
    if (result === null) return false
    const waiter = this.pending.get(result.id)
    if (waiter === undefined) return true
    this.pending.delete(result.id)
    clearTimeout(waiter.timer)
    if (result.ok) waiter.resolve(result.data)
    else waiter.reject(new HearthError(result.code, result.message))
    return true
  }

  /** The parent went away: nothing will answer. */
  failAll(): void {
    for (const [id, w] of this.pending) {
      clearTimeout(w.timer)
      w.reject(new HearthError('NOT_RUNNING', 'the desktop shell is gone'))
      this.pending.delete(id)
    }
  }
}

/*
 * Blob layout: 'HSS1' | version 1 | safeStorage ciphertext of base64(plaintext).
 * The magic differs from the passphrase keystore's 'HKS1', so a blob says which provider wrapped it.
 */
const SAFE_MAGIC = new TextEncoder().encode('HSS1')
const PASSPHRASE_MAGIC = new TextEncoder().encode('HKS1')
const VERSION = 1

export type BlobKind = 'safeStorage' | 'passphrase' | 'unknown'

export function blobKind(blob: Uint8Array): BlobKind {
  if (startsWith(blob, SAFE_MAGIC)) return 'safeStorage'
  if (startsWith(blob, PASSPHRASE_MAGIC)) return 'passphrase'
  return 'unknown'
}

export function safeStorageKeyProvider(keys: Pick<KeyRequester, 'request'>): KeyProvider {
  return {
    kind: 'safeStorage',
    async wrap(plaintext) {
      const sealed = await keys.request('encrypt', plaintext)
      const blob = new Uint8Array(SAFE_MAGIC.length + 1 + sealed.length)
      blob.set(SAFE_MAGIC, 0)
      blob[SAFE_MAGIC.length] = VERSION
      blob.set(sealed, SAFE_MAGIC.length + 1)
      return blob
    },
    async unwrap(blob) {
      const kind = blobKind(blob)
      if (kind === 'passphrase') throw new HearthError('WRONG_PASSPHRASE', 'this identity is protected by a passphrase')
      if (kind !== 'safeStorage') throw new HearthError('KEYSTORE_CORRUPT', 'not a keystore blob')
      const version = blob[SAFE_MAGIC.length]
      if (version !== VERSION) throw new HearthError('UNSUPPORTED_VERSION', `unsupported keychain blob version ${String(version)}`)
      const body = blob.subarray(SAFE_MAGIC.length + 1)
      if (body.length === 0) throw new HearthError('KEYSTORE_CORRUPT', 'keychain blob truncated')
      return keys.request('decrypt', body)
    },
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b)
}
