import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { passphraseKeyProvider, type KeyProvider } from '../../common/crypto/keystore.js'
import { HearthError } from '../../common/errors.js'
import type { EventPush } from '../api/contract.js'
import { TEST_SCRYPT_COST, errorOf, resultOf } from '../api/testing.js'
import type { AppStatus, CreatedIdentity, WhoAmI } from '../api/types.js'
import { identityExists } from '../identity/identity.js'
import { createAppHost, pickPositions, type AppHost, type AppHostOptions } from './app-host.js'

const PASSPHRASE = 'correct horse battery'

const testProvider = (passphrase: string | undefined): KeyProvider => {
  if (passphrase === undefined) throw new HearthError('INVALID_INPUT', 'a passphrase is needed')
  return passphraseKeyProvider(passphrase, { cost: TEST_SCRYPT_COST })
}

let root: string
const hosts: AppHost[] = []
let nextId = 1

function host(dataDir: string, extra: Partial<AppHostOptions> = {}): AppHost {
  const h = createAppHost({
    dataDir,
    keyProvider: testProvider,
    network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false },
    ...extra,
  })
  hosts.push(h)
  return h
}

const call = (h: AppHost, method: string, params?: unknown) => h.handle({ id: nextId++, method, ...(params === undefined ? {} : { params }) })

/** The words at the positions the host asked for. */
function wordsFor(created: CreatedIdentity): string[] {
  const words = created.recoveryPhrase.split(' ')
  return created.confirmPositions.map((p) => words[p - 1]!)
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-app-host-'))
})
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('the app host', () => {
  it('onboards: create, confirm the recovery phrase, then serves the core; nothing is saved before confirmation', async () => {
    const dataDir = join(root, 'alice')
    const alice = host(dataDir)
    const pushes: EventPush[] = []
    alice.subscribe((push) => pushes.push(push))

    expect(resultOf<AppStatus>(await call(alice, 'app.status'))).toEqual({ state: 'new', needsPassphrase: true })
    expect(errorOf(await call(alice, 'identity.whoami')).code).toBe('NO_IDENTITY')
    expect(errorOf(await call(alice, 'app.unlock', { passphrase: PASSPHRASE })).code).toBe('NO_IDENTITY')
    expect(errorOf(await call(alice, 'app.create', { name: 'Alice' })).code).toBe('INVALID_INPUT')
    expect(errorOf(await call(alice, 'app.create', { name: 'Alice', passphrase: 'short' })).code).toBe('INVALID_INPUT')

    const created = resultOf<CreatedIdentity>(await call(alice, 'app.create', { name: 'Alice', passphrase: PASSPHRASE }))
    expect(created.recoveryPhrase.split(' ')).toHaveLength(24)
    expect(created.confirmPositions).toHaveLength(3)
    expect(alice.status().state).toBe('confirming')
    expect(identityExists(dataDir)).toBe(false)
    expect(errorOf(await call(alice, 'conversations.list')).code).toBe('NO_IDENTITY')

    const right = wordsFor(created)
    const wrong = [...right.slice(0, -1), right.at(-1) === 'zoo' ? 'abandon' : 'zoo']
    expect(errorOf(await call(alice, 'app.confirmRecovery', { words: wrong })).code).toBe('INVALID_RECOVERY_PHRASE')
    expect(errorOf(await call(alice, 'app.confirmRecovery', { words: right.slice(0, 2) })).code).toBe('INVALID_RECOVERY_PHRASE')
    expect(identityExists(dataDir)).toBe(false)

    // Typed back in capitals with stray spaces still matches.
    const typed = right.map((w) => ` ${w.toUpperCase()} `)
    expect(resultOf<AppStatus>(await call(alice, 'app.confirmRecovery', { words: typed })).state).toBe('ready')
    expect(identityExists(dataDir)).toBe(true)
    const me = resultOf<WhoAmI>(await call(alice, 'identity.whoami'))
    expect(me.displayName).toBe('Alice')

    // Core events flow through the host, and the state changes were pushed.
    await call(alice, 'conversations.create', { kind: 'group', name: 'Family' })
    const states = pushes.flatMap((p) => (p.event === 'app.changed' ? [p.payload.status.state] : []))
    expect(states).toEqual(['confirming', 'starting', 'ready'])
    expect(pushes.some((p) => p.event === 'conversation.updated')).toBe(true)

    expect(errorOf(await call(alice, 'app.create', { name: 'Again', passphrase: PASSPHRASE })).code).toBe('IDENTITY_EXISTS')
    expect(resultOf<AppStatus>(await call(alice, 'app.unlock', { passphrase: 'anything at all' })).state).toBe('ready')
    const info = resultOf<{ version: string; dataDir: string; runtime: Record<string, string> }>(await call(alice, 'app.info'))
    expect(info).toMatchObject({ version: '0.1.0', dataDir, runtime: { node: process.versions.node } })

    await alice.close()
    expect(alice.status().state).toBe('stopped')
    expect(errorOf(await call(alice, 'identity.whoami')).code).toBe('NOT_RUNNING')

    // Reopened: locked until the right passphrase; a wrong one says so and stays locked.
    const again = host(dataDir)
    expect(again.status().state).toBe('locked')
    expect(errorOf(await call(again, 'conversations.list')).code).toBe('NOT_RUNNING')
    expect(errorOf(await call(again, 'app.unlock', {})).code).toBe('INVALID_INPUT')
    expect(errorOf(await call(again, 'app.unlock', { passphrase: 'not the passphrase' })).code).toBe('WRONG_PASSPHRASE')
    expect(again.status().state).toBe('locked')
    // Two windows pressing unlock together open the core once.
    const [first, second] = await Promise.all([
      call(again, 'app.unlock', { passphrase: PASSPHRASE }),
      call(again, 'app.unlock', { passphrase: PASSPHRASE }),
    ])
    expect(resultOf<AppStatus>(first).state).toBe('ready')
    expect(resultOf<AppStatus>(second).state).toBe('ready')
    expect(resultOf<WhoAmI>(await call(again, 'identity.whoami')).account).toBe(me.account)
    const list = resultOf<Array<{ name: string }>>(await call(again, 'conversations.list'))
    expect(list.map((c) => c.name)).toEqual(['Family'])
  })

  it('starts over when create is called again before confirming, and forgets an unconfirmed identity on close', async () => {
    const dataDir = join(root, 'bob')
    const bob = host(dataDir)
    const first = resultOf<CreatedIdentity>(await call(bob, 'app.create', { name: 'Bob', passphrase: PASSPHRASE }))
    const second = resultOf<CreatedIdentity>(await call(bob, 'app.create', { name: 'Bob', passphrase: PASSPHRASE }))
    expect(second.recoveryPhrase).not.toBe(first.recoveryPhrase)
    expect(errorOf(await call(bob, 'app.confirmRecovery', { words: wordsFor(first) })).code).toBe('INVALID_RECOVERY_PHRASE')
    await bob.close()
    expect(identityExists(dataDir)).toBe(false)
    expect(host(dataDir).status().state).toBe('new')
  })

  it('restores an account from its phrase on a fresh data dir', async () => {
    const original = host(join(root, 'carol'))
    const created = resultOf<CreatedIdentity>(await call(original, 'app.create', { name: 'Carol', passphrase: PASSPHRASE }))
    await call(original, 'app.confirmRecovery', { words: wordsFor(created) })
    const { account, device } = resultOf<WhoAmI>(await call(original, 'identity.whoami'))
    await original.close()

    const restored = host(join(root, 'carol-restored'))
    const bad = await call(restored, 'app.restore', { name: 'Carol', phrase: 'abandon '.repeat(24).trim(), passphrase: PASSPHRASE })
    expect(errorOf(bad).code).toBe('INVALID_RECOVERY_PHRASE')
    expect(restored.status().state).toBe('new')
    const done = await call(restored, 'app.restore', { name: 'Carol', phrase: created.recoveryPhrase.toUpperCase(), passphrase: PASSPHRASE })
    expect(resultOf<AppStatus>(done).state).toBe('ready')
    const me = resultOf<WhoAmI>(await call(restored, 'identity.whoami'))
    expect(me.account).toBe(account)
    expect(me.device).not.toBe(device) // the same person on a new device
  })

  it('Settings, Account: shows the recovery phrase again for the passphrase, and changes the passphrase', async () => {
    const dataDir = join(root, 'frank')
    const frank = host(dataDir)
    expect(errorOf(await call(frank, 'account.status')).code).toBe('NO_IDENTITY')
    const created = resultOf<CreatedIdentity>(await call(frank, 'app.create', { name: 'Frank', passphrase: PASSPHRASE }))
    await call(frank, 'app.confirmRecovery', { words: wordsFor(created) })
    const pushes: EventPush[] = []
    frank.subscribe((push) => pushes.push(push))

    expect(resultOf(await call(frank, 'account.status'))).toEqual({ recoveryPhraseKept: true, protection: 'passphrase' })
    expect(errorOf(await call(frank, 'account.recoveryPhrase', { passphrase: 'not the passphrase' })).code).toBe('WRONG_PASSPHRASE')
    expect(resultOf(await call(frank, 'account.recoveryPhrase', { passphrase: PASSPHRASE }))).toEqual({ phrase: created.recoveryPhrase })

    const NEW = 'a brand new passphrase'
    const wrong = errorOf(await call(frank, 'account.changePassphrase', { current: 'not the passphrase', next: NEW }))
    expect(wrong).toMatchObject({ code: 'WRONG_PASSPHRASE', message: expect.stringContaining('Nothing was changed') })
    expect(errorOf(await call(frank, 'account.changePassphrase', { current: PASSPHRASE, next: 'short' })).code).toBe('INVALID_INPUT')
    expect(resultOf(await call(frank, 'account.changePassphrase', { current: PASSPHRASE, next: NEW }))).toBeNull()
    // the running core writes the identity under the new passphrase too (a rename after the change)
    await call(frank, 'settings.update', { displayName: 'Frank B' })
    expect(JSON.stringify(pushes)).not.toContain(created.recoveryPhrase.split(' ').slice(0, 3).join(' '))
    await frank.close()

    const again = host(dataDir)
    expect(errorOf(await call(again, 'app.unlock', { passphrase: PASSPHRASE })).code).toBe('WRONG_PASSPHRASE')
    expect(resultOf<AppStatus>(await call(again, 'app.unlock', { passphrase: NEW })).state).toBe('ready')
    expect(resultOf<WhoAmI>(await call(again, 'identity.whoami')).displayName).toBe('Frank B')
  })

  it('needs no passphrase where the key provider does not (Electron safeStorage)', async () => {
    const seen: Array<string | undefined> = []
    const keychain = host(join(root, 'dave'), {
      needsPassphrase: false,
      keyProvider: (p) => {
        seen.push(p)
        return passphraseKeyProvider('from the OS keychain', { cost: TEST_SCRYPT_COST })
      },
    })
    expect(keychain.status()).toEqual({ state: 'new', needsPassphrase: false })
    const created = resultOf<CreatedIdentity>(await call(keychain, 'app.create', { name: 'Dave' }))
    expect(resultOf<AppStatus>(await call(keychain, 'app.confirmRecovery', { words: wordsFor(created) })).state).toBe('ready')
    expect(seen.every((p) => p === undefined)).toBe(true)
    await keychain.close()
    const again = host(join(root, 'dave'), { needsPassphrase: false, keyProvider: () => passphraseKeyProvider('from the OS keychain', { cost: TEST_SCRYPT_COST }) })
    expect(resultOf<AppStatus>(await call(again, 'app.unlock', {})).state).toBe('ready')
  })

  it('refuses malformed requests like the core dispatcher does', async () => {
    const h = host(join(root, 'erin'))
    expect(errorOf(await h.handle({ id: 1, method: 'nope' })).code).toBe('INVALID_INPUT')
    expect(errorOf(await h.handle({ id: 1, method: 'app.create', params: { name: 'x', passphrase: PASSPHRASE, extra: 1 } })).code).toBe(
      'INVALID_INPUT',
    )
    expect(errorOf(await h.handle('garbage')).code).toBe('INVALID_INPUT')
    // A refused create left nothing behind.
    expect(await readdir(root)).not.toContain('erin')
  })
})

describe('pickPositions', () => {
  it('picks distinct positions in range, in order', () => {
    for (let i = 0; i < 200; i++) {
      const positions = pickPositions(24, 3)
      expect(new Set(positions).size).toBe(3)
      expect(positions).toEqual([...positions].sort((a, b) => a - b))
      expect(positions.every((p) => p >= 1 && p <= 24)).toBe(true)
    }
  })
})
