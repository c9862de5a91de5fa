import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { passphraseKeyProvider, type KeyProvider } from '../../common/crypto/keystore.js'
import { HearthError } from '../../common/errors.js'
import { TEST_SCRYPT_COST } from '../api/testing.js'
import { createIdentity, IDENTITY_FILE, loadIdentity, saveIdentity, withDisplayName, type Identity } from '../identity/identity.js'
import { createAccountKeys, FREE_WRONG_PASSPHRASES, PassphraseAttempts, switchableKeyProvider, type AccountKeysOptions } from './account-keys.js'

const OLD = 'old passphrase 1'
const NEW = 'new passphrase 2'
const provider = (p: string | undefined): KeyProvider => {
  if (p === undefined) throw new HearthError('INVALID_INPUT', 'a passphrase is needed')
  return passphraseKeyProvider(p, { cost: TEST_SCRYPT_COST })
}

let root: string
let n = 0
let identity: Identity
let phrase: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-account-keys-'))
  ;({ identity, recoveryPhrase: phrase } = await createIdentity('Alice', 1_700_000_000_000))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function setUp(extra: Partial<AccountKeysOptions> = {}, saved: Identity = identity) {
  const dataDir = join(root, `d${n++}`)
  const { mkdir } = await import('node:fs/promises')
  await mkdir(dataDir)
  const initial = provider(OLD)
  await saveIdentity(dataDir, saved, initial)
  const live = switchableKeyProvider(initial)
  const clock = { t: 1_000_000 }
  const options: AccountKeysOptions = {
    dataDir,
    needsPassphrase: true,
    providerFor: provider,
    live,
    identity: saved,
    attempts: new PassphraseAttempts(() => clock.t),
    ...extra,
  }
  return { dataDir, live, clock, keys: createAccountKeys(options) }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    expect(err).toBeInstanceOf(HearthError)
    return (err as HearthError).code
  }
}

describe('account keys: show the recovery phrase', () => {
  it('asks for the passphrase where one wraps the keys, and shows the phrase only for the right one', async () => {
    const { keys } = await setUp()
    expect(keys.status()).toEqual({ recoveryPhraseKept: true, protection: 'passphrase' })
    expect(await codeOf(keys.recoveryPhrase(undefined))).toBe('INVALID_INPUT')
    expect(await codeOf(keys.recoveryPhrase('not it'))).toBe('WRONG_PASSPHRASE')
    expect(await keys.recoveryPhrase(OLD)).toEqual({ phrase })
  })

  it('with the OS keychain, shows it without a passphrase (the UI asks the person to confirm)', async () => {
    const { keys } = await setUp({ needsPassphrase: false })
    expect(keys.status()).toEqual({ recoveryPhraseKept: true, protection: 'keychain' })
    expect(await keys.recoveryPhrase(undefined)).toEqual({ phrase })
  })

  it('a device set up before the phrase was kept says so and shows nothing', async () => {
    const { entropy: _dropped, ...old } = identity
    const { keys } = await setUp({}, old)
    expect(keys.status().recoveryPhraseKept).toBe(false)
    expect(await keys.recoveryPhrase(OLD)).toEqual({ phrase: null })
  })

  it('brakes guessing: three wrong tries are free, then a growing wait (RATE_LIMITED even for the right one)', async () => {
    const { keys, clock } = await setUp()
    for (let i = 0; i < FREE_WRONG_PASSPHRASES; i++) expect(await codeOf(keys.recoveryPhrase(`wrong ${i}`))).toBe('WRONG_PASSPHRASE')
    expect(await codeOf(keys.recoveryPhrase(OLD))).toBe('RATE_LIMITED')
    clock.t += 5_000
    expect(await codeOf(keys.recoveryPhrase('wrong again'))).toBe('WRONG_PASSPHRASE')
    clock.t += 5_000 // the wait doubled to 10 s
    expect(await codeOf(keys.recoveryPhrase(OLD))).toBe('RATE_LIMITED')
    clock.t += 5_000
    expect(await keys.recoveryPhrase(OLD)).toEqual({ phrase })
    // the right one reset the count
    expect(await codeOf(keys.recoveryPhrase('wrong once more'))).toBe('WRONG_PASSPHRASE')
    expect(await keys.recoveryPhrase(OLD)).toEqual({ phrase })
  })
})

describe('account keys: change the passphrase', () => {
  it('a wrong current passphrase changes nothing, byte for byte', async () => {
    const { keys, dataDir, live } = await setUp()
    const before = await readFile(join(dataDir, IDENTITY_FILE))
    const error = await keys.changePassphrase('not it', NEW).catch((err: unknown) => err)
    expect(error).toMatchObject({ code: 'WRONG_PASSPHRASE', message: expect.stringContaining('Nothing was changed') })
    expect(await readFile(join(dataDir, IDENTITY_FILE))).toEqual(before)
    // the core's provider still writes with the old passphrase
    await saveIdentity(dataDir, identity, live)
    expect((await loadIdentity(dataDir, provider(OLD))).account).toBe(identity.account)
  })

  it('re-wraps the identity file: the new passphrase opens it, the old one no longer does, everything inside kept', async () => {
    const { keys, dataDir, live } = await setUp()
    await keys.changePassphrase(OLD, NEW)
    expect(await codeOf(loadIdentity(dataDir, provider(OLD)))).toBe('WRONG_PASSPHRASE')
    const loaded = await loadIdentity(dataDir, provider(NEW))
    expect(loaded.deviceId).toBe(identity.deviceId)
    expect(loaded.dbKey).toEqual(identity.dbKey)
    expect(loaded.entropy).toEqual(identity.entropy)
    // a later rename by the open core wraps with the new passphrase too
    await saveIdentity(dataDir, withDisplayName(identity, 'Alice B'), live)
    expect((await loadIdentity(dataDir, provider(NEW))).displayName).toBe('Alice B')
    expect(await keys.recoveryPhrase(NEW)).toEqual({ phrase })
    expect(await codeOf(keys.recoveryPhrase(OLD))).toBe('WRONG_PASSPHRASE')
  })

  it('refuses the same passphrase again, and a keychain device (nothing to change)', async () => {
    const { keys } = await setUp()
    expect(await codeOf(keys.changePassphrase(OLD, OLD))).toBe('INVALID_INPUT')
    const keychain = await setUp({ needsPassphrase: false })
    expect(await codeOf(keychain.keys.changePassphrase(OLD, NEW))).toBe('INVALID_INPUT')
  })

  it('a failed write puts the core’s provider back to the old passphrase', async () => {
    const { keys, dataDir, live } = await setUp({
      providerFor: (p) => (p === NEW ? { kind: 'broken', wrap: () => Promise.reject(new Error('disk full')), unwrap: (b) => provider(p).unwrap(b) } : provider(p)),
    })
    await expect(keys.changePassphrase(OLD, NEW)).rejects.toThrow('disk full')
    await saveIdentity(dataDir, identity, live)
    expect((await loadIdentity(dataDir, provider(OLD))).account).toBe(identity.account)
  })
})
