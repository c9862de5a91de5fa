import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { passphraseKeyProvider } from '../../common/crypto/keystore.js'
import { accountSeedFromEntropy, entropyFromPhrase } from '../../common/crypto/recovery.js'
import { encodeCbor } from '../../common/wire/cbor.js'
import { HearthError } from '../../common/errors.js'
import { toBase64Url, toHex, utf8 } from '../../common/util/bytes.js'
import { decodeDeviceCert } from './device-cert.js'
import {
  createIdentity,
  IDENTITY_FILE,
  identityExists,
  identityForNewDevice,
  loadIdentity,
  recoveryPhraseOf,
  restoreIdentity,
  saveIdentity,
  validateDisplayName,
  withDisplayName,
  type Identity,
} from './identity.js'

const cost = { N: 2 ** 10, r: 8, p: 1 }
const PASS = 'correct horse battery staple'
const provider = passphraseKeyProvider(PASS, { cost })
const NAME = 'Zoë Ünïcode-Name'
const T = 1_700_000_000_000

const dirs: string[] = []
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-identity-'))
  dirs.push(dir)
  return dir
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack).indexOf(Buffer.from(needle))
}

async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    expect(err).toBeInstanceOf(HearthError)
    return (err as HearthError).code
  }
}

describe('identity', () => {
  let identity: Identity
  let phrase: string
  let dir: string

  beforeAll(async () => {
    ;({ identity, recoveryPhrase: phrase } = await createIdentity(`  ${NAME}  `, T))
    dir = await freshDir()
  })

  it('creates four separate keys, a 24-word phrase and a certificate that verifies', () => {
    expect(identity.displayName).toBe(NAME)
    expect(phrase.split(' ')).toHaveLength(24)
    expect(identity.account).toBe(toHex(identity.accountKey.publicKey))
    expect(identity.deviceId).toBe(toHex(identity.deviceKey.publicKey))
    expect(identity.account).not.toBe(identity.deviceId)
    const keys = [identity.accountKey.seed, identity.deviceKey.seed, identity.dhKey.secretKey, identity.dbKey].map(toHex)
    expect(new Set(keys).size).toBe(4)
    // the network identity is not the person
    expect(identity.peerId).not.toContain(identity.account)
    const cert = decodeDeviceCert(identity.cert.bytes)
    expect(cert).toMatchObject({ account: identity.account, device: identity.deviceId, peerId: identity.peerId, displayName: NAME, createdAt: T })
    expect(cert.dhPublic).toEqual(identity.dhKey.publicKey)
  })

  it('save → load gives back the same identity', async () => {
    expect(identityExists(dir)).toBe(false)
    await saveIdentity(dir, identity, provider)
    expect(identityExists(dir)).toBe(true)
    const loaded = await loadIdentity(dir, provider)
    expect(loaded.account).toBe(identity.account)
    expect(loaded.deviceId).toBe(identity.deviceId)
    expect(loaded.peerId).toBe(identity.peerId)
    expect(loaded.displayName).toBe(NAME)
    expect(loaded.accountKey).toEqual(identity.accountKey)
    expect(loaded.deviceKey).toEqual(identity.deviceKey)
    expect(loaded.dhKey).toEqual(identity.dhKey)
    expect(loaded.dbKey).toEqual(identity.dbKey)
    expect(privateKeyToProtobuf(loaded.peerKey)).toEqual(privateKeyToProtobuf(identity.peerKey))
    // the certificate is re-issued identically (Ed25519 is deterministic) and verifies
    expect(new Uint8Array(loaded.cert.bytes)).toEqual(new Uint8Array(identity.cert.bytes))
    expect(decodeDeviceCert(loaded.cert.bytes).createdAt).toBe(T)
    // a provider made separately with the same passphrase opens it too
    expect((await loadIdentity(dir, passphraseKeyProvider(PASS, { cost }))).account).toBe(identity.account)
  })

  it('a new display name re-issues the certificate (same keys and date) and survives save → load', async () => {
    const renamed = withDisplayName(identity, '  Grandma Zoë ')
    expect(renamed.displayName).toBe('Grandma Zoë')
    const cert = decodeDeviceCert(renamed.cert.bytes)
    expect(cert).toMatchObject({ account: identity.account, device: identity.deviceId, peerId: identity.peerId, displayName: 'Grandma Zoë', createdAt: T })
    expect(renamed.accountKey).toBe(identity.accountKey)
    expect(identity.displayName).toBe(NAME) // the original is not changed in place
    const renamedDir = await freshDir()
    await saveIdentity(renamedDir, renamed, provider)
    const loaded = await loadIdentity(renamedDir, provider)
    expect(loaded.displayName).toBe('Grandma Zoë')
    expect(new Uint8Array(loaded.cert.bytes)).toEqual(new Uint8Array(renamed.cert.bytes))
    expect(() => withDisplayName(identity, '\u202Eevil')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
  })

  it('wrong passphrase → WRONG_PASSPHRASE', async () => {
    expect(await rejectionCode(loadIdentity(dir, passphraseKeyProvider('Correct horse battery staple', { cost })))).toBe('WRONG_PASSPHRASE')
  })

  it('no identity → NO_IDENTITY; a damaged file → KEYSTORE_CORRUPT, never a crash', async () => {
    expect(await rejectionCode(loadIdentity(await freshDir(), provider))).toBe('NO_IDENTITY')
    const damaged = await freshDir()
    const blob = await readFile(join(dir, IDENTITY_FILE))
    const flipped = new Uint8Array(blob)
    flipped[flipped.length - 40] = flipped[flipped.length - 40]! ^ 1
    await writeFile(join(damaged, IDENTITY_FILE), flipped)
    expect(await rejectionCode(loadIdentity(damaged, provider))).toBe('KEYSTORE_CORRUPT')
    await writeFile(join(damaged, IDENTITY_FILE), blob.subarray(0, 30))
    expect(await rejectionCode(loadIdentity(damaged, provider))).toBe('KEYSTORE_CORRUPT')
    await writeFile(join(damaged, IDENTITY_FILE), new Uint8Array(0))
    expect(await rejectionCode(loadIdentity(damaged, provider))).toBe('KEYSTORE_CORRUPT')
  })

  it('a well-wrapped blob that is not an identity → MALFORMED', async () => {
    const odd = await freshDir()
    await writeFile(join(odd, IDENTITY_FILE), await provider.wrap(utf8('not cbor at all')))
    expect(await rejectionCode(loadIdentity(odd, provider))).toBe('MALFORMED')
  })

  it('the identity file holds no secret, name or phrase in plaintext (raw, hex or base64)', async () => {
    const file = new Uint8Array(await readFile(join(dir, IDENTITY_FILE)))
    const secrets: Record<string, Uint8Array> = {
      accountSeed: identity.accountKey.seed,
      deviceSeed: identity.deviceKey.seed,
      dhSecret: identity.dhKey.secretKey,
      dbKey: identity.dbKey,
      peerKey: privateKeyToProtobuf(identity.peerKey),
      peerKeySeed: privateKeyToProtobuf(identity.peerKey).subarray(4, 36),
      displayName: utf8(NAME),
      recoveryEntropy: identity.entropy!,
    }
    for (const [what, secret] of Object.entries(secrets)) {
      for (const form of [secret, utf8(toHex(secret)), utf8(toBase64Url(secret)), utf8(Buffer.from(secret).toString('base64'))]) {
        expect([what, indexOf(file, form)]).toEqual([what, -1])
      }
      // not even an 8-byte window of it
      for (let i = 0; i + 8 <= secret.length; i += 4) expect([what, i, indexOf(file, secret.subarray(i, i + 8))]).toEqual([what, i, -1])
    }
    for (const word of new Set(phrase.split(' ').filter((w) => w.length >= 7))) {
      expect([word, indexOf(file, utf8(word))]).toEqual([word, -1])
    }
    expect(Buffer.from(file.subarray(0, 4)).toString()).toBe('HKS1')
  })

  it('restore from the recovery phrase on a fresh directory: same account, new device, new network and database keys', async () => {
    const messy = `  ${phrase.toUpperCase().split(' ').join('  \n')} `
    const restored = await restoreIdentity('Zoë again', messy, T + 1)
    expect(restored.account).toBe(identity.account)
    expect(restored.accountKey).toEqual(identity.accountKey)
    expect(restored.deviceId).not.toBe(identity.deviceId)
    expect(restored.peerId).not.toBe(identity.peerId)
    expect(restored.dbKey).not.toEqual(identity.dbKey)
    expect(restored.dhKey.secretKey).not.toEqual(identity.dhKey.secretKey)
    expect(decodeDeviceCert(restored.cert.bytes)).toMatchObject({ account: identity.account, device: restored.deviceId })

    const fresh = await freshDir()
    await saveIdentity(fresh, restored, provider)
    const loaded = await loadIdentity(fresh, provider)
    expect(loaded.account).toBe(identity.account)
    expect(loaded.deviceId).toBe(restored.deviceId)
  })

  it('a wrong or foreign recovery phrase → INVALID_RECOVERY_PHRASE', async () => {
    const words = phrase.split(' ')
    // Two words swapped: the checksum (8 bits) misses one such mistake in 256, and then the phrase is simply another
    // account's. The first swap of the first word that breaks the checksum is the typo case.
    const swaps = words.slice(1).map((_, i) => {
      const w = [...words]
      ;[w[0], w[i + 1]] = [w[i + 1]!, w[0]!]
      return w.join(' ')
    })
    const swapped = swaps.find((text) => {
      try {
        entropyFromPhrase(text)
        return false
      } catch {
        return true
      }
    })
    expect(swapped).toBeDefined()
    const cases = [swapped!, words.slice(0, 12).join(' '), `${words.slice(0, 23).join(' ')} notaword`, '']
    for (const text of cases) {
      expect(await rejectionCode(restoreIdentity('x', text, T))).toBe('INVALID_RECOVERY_PHRASE')
    }
  })

  it('display names: trimmed, not empty, at most 64 characters (counted as code points)', async () => {
    expect(validateDisplayName('  Bo  ')).toBe('Bo')
    expect(validateDisplayName('😀'.repeat(64))).toBe('😀'.repeat(64))
    for (const bad of ['', '   ', 'x'.repeat(65), '😀'.repeat(65), 'Bo\nb', 'Bo\u0000', 'evil\u202Eexe.txt', '\u2066Bo']) {
      expect(() => validateDisplayName(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    }
    expect(await rejectionCode(createIdentity('   ', T))).toBe('INVALID_INPUT')
  })

  it('keeps the recovery entropy: the phrase can be shown again after save → load', async () => {
    expect(identity.entropy).toEqual(entropyFromPhrase(phrase))
    expect(recoveryPhraseOf(identity)).toBe(phrase)
    const loaded = await loadIdentity(dir, provider)
    expect(loaded.entropy).toEqual(identity.entropy)
    expect(recoveryPhraseOf(loaded)).toBe(phrase)
    // a restored device keeps it too, whatever case and spacing the phrase was typed in
    const restored = await restoreIdentity('Zoë again', phrase.toUpperCase(), T)
    expect(recoveryPhraseOf(restored)).toBe(phrase)
  })

  it('a new device of an existing account, with and without the entropy, round-trips through the file', async () => {
    const entropy = entropyFromPhrase(phrase)
    const accountSeed = accountSeedFromEntropy(entropy)
    const withEntropy = await identityForNewDevice({ accountSeed, entropy }, 'Laptop', T + 5)
    const without = await identityForNewDevice({ accountSeed }, 'Phone', T + 6)
    for (const [made, kept] of [[withEntropy, entropy], [without, undefined]] as const) {
      expect(made.account).toBe(identity.account)
      expect(made.deviceId).not.toBe(identity.deviceId)
      expect(made.dbKey).not.toEqual(identity.dbKey)
      const d = await freshDir()
      await saveIdentity(d, made, provider)
      const loaded = await loadIdentity(d, provider)
      expect(loaded.account).toBe(identity.account)
      expect(loaded.deviceId).toBe(made.deviceId)
      expect(loaded.entropy).toEqual(kept)
      expect('entropy' in loaded).toBe(kept !== undefined)
    }
    expect(withEntropy.deviceId).not.toBe(without.deviceId)
    expect(recoveryPhraseOf(without)).toBeUndefined()
    // entropy of another account is refused rather than stored beside the wrong key
    const other = (await createIdentity('Other', T)).identity
    expect(await rejectionCode(identityForNewDevice({ accountSeed, entropy: other.entropy! }, 'x', T))).toBe('INVALID_INPUT')
  })

  /** The identity file's fields as written before the recovery entropy was kept (no `e`). */
  const fileFieldsBeforeEntropy = () => ({
    v: 1,
    a: identity.accountKey.seed,
    d: identity.deviceKey.seed,
    x: identity.dhKey.secretKey,
    p: privateKeyToProtobuf(identity.peerKey),
    k: identity.dbKey,
    n: identity.displayName,
    t: identity.cert.createdAt,
  })

  it('an identity file written before the phrase was kept (no `e`) loads, with no phrase to show', async () => {
    const old = await freshDir()
    const plain = encodeCbor(fileFieldsBeforeEntropy())
    await writeFile(join(old, IDENTITY_FILE), await provider.wrap(plain))
    const loaded = await loadIdentity(old, provider)
    expect(loaded.account).toBe(identity.account)
    expect(loaded.deviceId).toBe(identity.deviceId)
    expect(loaded.entropy).toBeUndefined()
    expect(recoveryPhraseOf(loaded)).toBeUndefined()
  })

  it('a file whose entropy does not match its account key, or is the wrong length, → MALFORMED', async () => {
    const base = fileFieldsBeforeEntropy()
    const odd = await freshDir()
    for (const e of [new Uint8Array(32).fill(7), identity.entropy!.subarray(0, 31)]) {
      await writeFile(join(odd, IDENTITY_FILE), await provider.wrap(encodeCbor({ ...base, e })))
      expect(await rejectionCode(loadIdentity(odd, provider))).toBe('MALFORMED')
    }
  })
})
