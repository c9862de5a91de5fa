import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import { isHearthError } from '../../node/common/errors.js'
import { TEST_SCRYPT_COST } from '../../node/src/api/testing.js'
import type { AppStatus, CreatedIdentity } from '../../node/src/api/types.js'
import { createAppHost, type AppHost } from '../../node/src/app/app-host.js'
import { IDENTITY_FILE } from '../../node/src/identity/identity.js'
import { parseFromCore, parseToCore } from './core-protocol.js'
import { desktopKeyProvider, needsPassphrase } from './desktop-keys.js'
import {
  assessSafeStorage,
  blobKind,
  createKeyService,
  KeyRequester,
  parseKeyRequest,
  safeStorageKeyProvider,
  type KeyRequest,
  type SafeStorageLike,
} from './safe-storage.js'

/**
 * A stand-in for the OS keychain behind Electron's safeStorage (a test double of an OS service): real AES-GCM under a
 * key only this "machine" has, and the Linux backend name it would report.
 */
class FakeSafeStorage implements SafeStorageLike {
  readonly key = randomBytes(32)
  encryptions = 0
  constructor(
    public backend = 'gnome_libsecret',
    public available = true,
  ) {}
  isAsyncEncryptionAvailable() {
    return Promise.resolve(this.available)
  }
  getSelectedStorageBackend() {
    return this.backend
  }
  encryptStringAsync(plainText: string) {
    this.encryptions++
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()])
    return Promise.resolve(Buffer.concat([Buffer.from('v10'), iv, body, cipher.getAuthTag()]))
  }
  decryptStringAsync(encrypted: Buffer) {
    const iv = encrypted.subarray(3, 15)
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
    decipher.setAuthTag(encrypted.subarray(encrypted.length - 16))
    const result = Buffer.concat([decipher.update(encrypted.subarray(15, encrypted.length - 16)), decipher.final()]).toString('utf8')
    return Promise.resolve({ result, shouldReEncrypt: false })
  }
}

/** The core-side provider wired to the main-side service through the same message parsing as the real port. */
async function keychainFor(safeStorage: FakeSafeStorage, platform = 'linux') {
  const service = createKeyService(safeStorage, await assessSafeStorage(safeStorage, platform))
  const requests: KeyRequest[] = []
  const requester: KeyRequester = new KeyRequester((request) => {
    const seenByMain = parseFromCore(structuredClone(request))
    if (seenByMain?.type !== 'keys.request') throw new Error('main would not understand this')
    requests.push(seenByMain)
    void service.handle(seenByMain).then((result) => {
      const seenByCore = parseToCore(structuredClone(result))
      if (seenByCore?.type === 'keys.result') requester.receive(seenByCore)
    })
  })
  return { service, requester, provider: safeStorageKeyProvider(requester), requests }
}

const secret = new Uint8Array(Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff))

describe('safeStorage assessment', () => {
  it('refuses Linux’s basic_text backend (a key hard-coded in Chromium) and an unknown one', async () => {
    expect(await assessSafeStorage(new FakeSafeStorage('basic_text'), 'linux')).toMatchObject({ usable: false, backend: 'basic_text' })
    expect(await assessSafeStorage(new FakeSafeStorage('unknown'), 'linux')).toMatchObject({ usable: false })
    for (const backend of ['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6']) {
      expect(await assessSafeStorage(new FakeSafeStorage(backend), 'linux')).toEqual({ usable: true, backend })
    }
  })

  it('asks the OS elsewhere, and treats failure as unusable', async () => {
    expect(await assessSafeStorage(new FakeSafeStorage('unknown'), 'darwin')).toEqual({ usable: true, backend: 'keychain' })
    expect(await assessSafeStorage(new FakeSafeStorage('unknown', false), 'win32')).toMatchObject({ usable: false, backend: 'dpapi' })
    const broken = new FakeSafeStorage()
    broken.isAsyncEncryptionAvailable = () => Promise.reject(new Error('no dbus'))
    expect(await assessSafeStorage(broken, 'linux')).toMatchObject({ usable: false, reason: expect.stringContaining('no dbus') })
  })
})

describe('the safeStorage key provider', () => {
  it('wraps through main and unwraps back', async () => {
    const os = new FakeSafeStorage()
    const { provider, requests } = await keychainFor(os)
    const blob = await provider.wrap(secret)
    expect(blobKind(blob)).toBe('safeStorage')
    expect(Buffer.from(blob).includes(Buffer.from(secret))).toBe(false)
    expect(await provider.unwrap(blob)).toEqual(secret)
    expect(requests.map((r) => r.op)).toEqual(['encrypt', 'decrypt'])
  })

  it('never wraps with the basic_text backend, whatever the core asks', async () => {
    const os = new FakeSafeStorage('basic_text')
    const { provider, service } = await keychainFor(os)
    expect(service.status.usable).toBe(false)
    await expect(provider.wrap(secret)).rejects.toSatisfy((err) => isHearthError(err, 'UNAUTHORIZED'))
    const direct = await service.handle({ type: 'keys.request', id: 1, op: 'encrypt', data: Buffer.from(secret).toString('base64') })
    expect(direct).toMatchObject({ ok: false, code: 'UNAUTHORIZED' })
    expect(os.encryptions).toBe(0)
  })

  it('says clearly when a blob is not its own, or the keychain is another machine’s', async () => {
    const { provider } = await keychainFor(new FakeSafeStorage())
    const passphraseBlob = await passphraseKeyProvider('pw', { cost: TEST_SCRYPT_COST }).wrap(secret)
    await expect(provider.unwrap(passphraseBlob)).rejects.toSatisfy((err) => isHearthError(err, 'WRONG_PASSPHRASE'))
    await expect(provider.unwrap(new Uint8Array([1, 2, 3]))).rejects.toSatisfy((err) => isHearthError(err, 'KEYSTORE_CORRUPT'))
    const blob = await provider.wrap(secret)
    const { provider: elsewhere } = await keychainFor(new FakeSafeStorage())
    await expect(elsewhere.unwrap(blob)).rejects.toSatisfy((err) => isHearthError(err, 'DECRYPT_FAILED'))
    const future = new Uint8Array(blob)
    future[4] = 9
    await expect(provider.unwrap(future)).rejects.toSatisfy((err) => isHearthError(err, 'UNSUPPORTED_VERSION'))
  })

  it('times out, and fails pending requests when main goes away', async () => {
    vi.useFakeTimers()
    try {
      const silent = new KeyRequester(() => {}, 1_000)
      const timedOut = silent.request('encrypt', secret)
      vi.advanceTimersByTime(1_001)
      await expect(timedOut).rejects.toSatisfy((err) => isHearthError(err, 'TIMEOUT'))
      const pending = silent.request('decrypt', secret)
      silent.failAll()
      await expect(pending).rejects.toSatisfy((err) => isHearthError(err, 'NOT_RUNNING'))
    } finally {
      vi.useRealTimers()
    }
  })

  it('parses only well-formed key requests', () => {
    expect(parseKeyRequest({ type: 'keys.request', id: 1, op: 'encrypt', data: 'AAAA' })).not.toBeNull()
    for (const junk of [
      { type: 'keys.request', id: 1, op: 'delete', data: 'AAAA' },
      { type: 'keys.request', id: '1', op: 'encrypt', data: 'AAAA' },
      { type: 'keys.request', id: 1, op: 'encrypt', data: 'not base64!' },
      { type: 'keys.request', id: 1, op: 'encrypt', data: 'A'.repeat(70_000) },
      null,
    ]) {
      expect(parseKeyRequest(junk)).toBeNull()
    }
  })
})

describe('the desktop key choice', () => {
  const passphrase = (p: string) => passphraseKeyProvider(p, { cost: TEST_SCRYPT_COST })

  it('uses the keychain without a passphrase, and refuses to wrap with neither (no plaintext fallback)', async () => {
    const { provider: keychain } = await keychainFor(new FakeSafeStorage())
    expect(blobKind(await desktopKeyProvider(undefined, { keychain, passphrase }).wrap(secret))).toBe('safeStorage')
    expect(blobKind(await desktopKeyProvider('pw', { keychain, passphrase }).wrap(secret))).toBe('passphrase')
    await expect(desktopKeyProvider(undefined, { keychain: null, passphrase }).wrap(secret)).rejects.toSatisfy((err) =>
      isHearthError(err, 'INVALID_INPUT'),
    )
  })

  it('unwraps with whatever wrapped the blob', async () => {
    const { provider: keychain } = await keychainFor(new FakeSafeStorage())
    const byPassphrase = await passphrase('pw').wrap(secret)
    const byKeychain = await keychain.wrap(secret)
    expect(await desktopKeyProvider('pw', { keychain, passphrase }).unwrap(byPassphrase)).toEqual(secret)
    expect(await desktopKeyProvider(undefined, { keychain, passphrase }).unwrap(byKeychain)).toEqual(secret)
    await expect(desktopKeyProvider(undefined, { keychain, passphrase }).unwrap(byPassphrase)).rejects.toSatisfy((err) =>
      isHearthError(err, 'WRONG_PASSPHRASE'),
    )
    await expect(desktopKeyProvider('pw', { keychain: null, passphrase }).unwrap(byKeychain)).rejects.toSatisfy((err) =>
      isHearthError(err, 'DECRYPT_FAILED'),
    )
  })

  it('asks for a passphrase where there is no keychain, or the identity was made with one', async () => {
    const byPassphrase = await passphrase('pw').wrap(secret)
    const { provider: keychain } = await keychainFor(new FakeSafeStorage())
    const byKeychain = await keychain.wrap(secret)
    expect(needsPassphrase(null, true)).toBe(false)
    expect(needsPassphrase(null, false)).toBe(true)
    expect(needsPassphrase(byPassphrase, true)).toBe(true)
    expect(needsPassphrase(byKeychain, true)).toBe(false)
  })
})

describe('the app host with the desktop keys (as core-process.ts wires it)', () => {
  let root: string
  const hosts: AppHost[] = []
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hearth-desktop-keys-'))
  })
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.close()))
    await rm(root, { recursive: true, force: true })
  })

  async function host(dataDir: string, os: FakeSafeStorage | null): Promise<AppHost> {
    const keychain = os === null ? null : (await keychainFor(os)).provider
    let identity: Uint8Array | null = null
    try {
      identity = new Uint8Array(await readFile(join(dataDir, IDENTITY_FILE)))
    } catch {
      identity = null
    }
    const h = createAppHost({
      dataDir,
      keyProvider: (p) => desktopKeyProvider(p, { keychain, passphrase: (pw) => passphraseKeyProvider(pw, { cost: TEST_SCRYPT_COST }) }),
      needsPassphrase: needsPassphrase(identity, keychain !== null),
      network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false },
    })
    hosts.push(h)
    return h
  }
  let id = 1
  async function call<T>(h: AppHost, method: string, params?: unknown): Promise<T> {
    const response = await h.handle({ id: id++, method, ...(params === undefined ? {} : { params }) })
    if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`)
    return response.result as T
  }

  it('creates an identity wrapped by the keychain without asking for a passphrase, and reopens it', async () => {
    const os = new FakeSafeStorage()
    const dataDir = join(root, 'alice')
    const first = await host(dataDir, os)
    expect(await call<AppStatus>(first, 'app.status')).toEqual({ state: 'new', needsPassphrase: false })
    const created = await call<CreatedIdentity>(first, 'app.create', { name: 'Alice' })
    const words = created.recoveryPhrase.split(' ')
    await call(first, 'app.confirmRecovery', { words: created.confirmPositions.map((p) => words[p - 1]) })
    expect(blobKind(new Uint8Array(await readFile(join(dataDir, IDENTITY_FILE))))).toBe('safeStorage')
    await first.close()

    const again = await host(dataDir, os)
    expect(await call<AppStatus>(again, 'app.status')).toEqual({ state: 'locked', needsPassphrase: false })
    expect(await call<AppStatus>(again, 'app.unlock', {})).toEqual({ state: 'ready', needsPassphrase: false })
    await again.close()
  })

  it('requires a passphrase where safeStorage only has basic_text', async () => {
    const os = new FakeSafeStorage('basic_text')
    const h = await host(join(root, 'bob'), (await assessSafeStorage(os, 'linux')).usable ? os : null)
    expect(await call<AppStatus>(h, 'app.status')).toEqual({ state: 'new', needsPassphrase: true })
    await expect(call(h, 'app.create', { name: 'Bob' })).rejects.toThrow(/passphrase/)
    expect(os.encryptions).toBe(0)
    await h.close()
  })
})
