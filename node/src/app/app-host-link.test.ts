/**
 * The app host linking this fresh install to an account in use on another host (real cores, real pairing on the
 * loopback), and wiping itself when that account's other device revokes it.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { passphraseKeyProvider, type KeyProvider } from '../../common/crypto/keystore.js'
import { HearthError } from '../../common/errors.js'
import { waitFor } from '../../common/net/testing.js'
import type { EventPush } from '../api/contract.js'
import { TEST_SCRYPT_COST, errorOf, resultOf } from '../api/testing.js'
import type { AppStatus, ConversationSummary, CreatedIdentity, DeviceView, LinkOfferView, Page, WhoAmI } from '../api/types.js'
import { identityExists } from '../identity/identity.js'
import { createAppHost, type AppHost } from './app-host.js'
import { corePortAfterLink, withPort } from './link-new-device.js'

const PASSPHRASE = 'correct horse battery'
const testProvider = (passphrase: string | undefined): KeyProvider => {
  if (passphrase === undefined) throw new HearthError('INVALID_INPUT', 'a passphrase is needed')
  return passphraseKeyProvider(passphrase, { cost: TEST_SCRYPT_COST })
}

let root: string
const hosts: AppHost[] = []
let nextId = 1

/** `pinned`: listen on loopback, any port (as the other tests); else the installed app's way (remembered ports). */
function host(dataDir: string, pinned = true): AppHost {
  const network = pinned ? { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false } : { mdns: false }
  const h = createAppHost({ dataDir, keyProvider: testProvider, network, syncIntervalMs: 1_000 })
  hosts.push(h)
  return h
}
const call = (h: AppHost, method: string, params?: unknown) => h.handle({ id: nextId++, method, ...(params === undefined ? {} : { params }) })
function pushesOf(h: AppHost): EventPush[] {
  const pushes: EventPush[] = []
  h.subscribe((p) => pushes.push(p))
  return pushes
}

async function onboarded(name: string, pinned = true): Promise<AppHost> {
  const h = host(join(root, name), pinned)
  const created = resultOf<CreatedIdentity>(await call(h, 'app.create', { name, passphrase: PASSPHRASE }))
  const words = created.recoveryPhrase.split(' ')
  await call(h, 'app.confirmRecovery', { words: created.confirmPositions.map((p) => words[p - 1]) })
  return h
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-app-link-'))
})
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('linking this device to an account in use elsewhere', () => {
  it('links to another host, takes its conversations and history, and wipes itself when revoked there', { timeout: 60_000 }, async () => {
    const alice = await onboarded('alice')
    const group = resultOf<ConversationSummary>(await call(alice, 'conversations.create', { kind: 'group', name: 'Family' }))
    await call(alice, 'messages.send', { conversationId: group.id, body: 'before the laptop' })
    const alicePushes = pushesOf(alice)

    const dataDir = join(root, 'alice-laptop')
    const laptop = host(dataDir)
    const pushes = pushesOf(laptop)
    expect(errorOf(await call(laptop, 'app.linkStart', {})).code).toBe('INVALID_INPUT') // the passphrase is asked first
    expect(errorOf(await call(laptop, 'app.linkConfirm', { accept: true })).code).toBe('NOT_FOUND')
    const offer = resultOf<LinkOfferView>(await call(laptop, 'app.linkStart', { passphrase: PASSPHRASE }))
    expect(offer.link).toMatch(/^hearth:\/\/link\//)
    expect(offer.expiresAt).toBeGreaterThan(Date.now())
    expect(laptop.status().state).toBe('linking')
    expect(errorOf(await call(laptop, 'app.create', { name: 'X', passphrase: PASSPHRASE })).code).toBe('NO_IDENTITY')
    expect(errorOf(await call(laptop, 'conversations.list')).code).toBe('NO_IDENTITY')
    expect(pushes).toContainEqual({ event: 'app.linking', payload: { stage: 'waiting', link: offer.link, expiresAt: offer.expiresAt } })

    const linked = call(alice, 'devices.link', { code: offer.link })
    await waitFor(() => pushes.some((p) => p.event === 'app.linking' && p.payload.stage === 'confirm'), { message: 'the digits on the new device' })
    await waitFor(() => alicePushes.some((p) => p.event === 'devices.linking' && p.payload.stage === 'confirm'), { message: 'the digits on alice' })
    const digits = (list: EventPush[], event: string) => list.flatMap((p) => (p.event === event && 'code' in p.payload && p.payload.code !== undefined ? [p.payload.code] : []))
    expect(digits(pushes, 'app.linking')).toEqual(digits(alicePushes, 'devices.linking'))
    expect(digits(pushes, 'app.linking')[0]).toMatch(/^\d{3} \d{3}$/)
    expect(identityExists(dataDir)).toBe(false) // nothing saved before both accepted

    await call(laptop, 'app.linkConfirm', { accept: true })
    await call(alice, 'devices.confirmLink', { accept: true })
    const device = resultOf<DeviceView>(await linked)
    await waitFor(() => laptop.status().state === 'ready', { timeoutMs: 20_000, message: 'the laptop ready' })
    expect(pushes.some((p) => p.event === 'app.linking' && p.payload.stage === 'receiving')).toBe(true)
    expect(identityExists(dataDir)).toBe(true)

    const me = resultOf<WhoAmI>(await call(laptop, 'identity.whoami'))
    const aliceMe = resultOf<WhoAmI>(await call(alice, 'identity.whoami'))
    expect(me.account).toBe(aliceMe.account)
    expect(me.device).toBe(device.device)
    const list = resultOf<ConversationSummary[]>(await call(laptop, 'conversations.list'))
    expect(list.map((c) => c.name)).toEqual(['Family'])
    // The history comes from alice's core, which finds the new core where it reached the temporary node.
    await waitFor(
      async () => resultOf<Page>(await call(laptop, 'messages.page', { conversationId: group.id })).messages.some((m) => m.body === 'before the laptop'),
      { timeoutMs: 20_000, message: 'the history on the laptop' },
    )

    // Revoked from alice: the laptop closes, wipes its keys and data, and says why.
    await call(alice, 'devices.revoke', { device: me.device })
    await waitFor(() => laptop.status().state === 'new', { timeoutMs: 20_000, message: 'the laptop wiped' })
    expect(laptop.status()).toEqual({ state: 'new', needsPassphrase: true, notice: 'revoked' })
    expect(identityExists(dataDir)).toBe(false)
    expect(existsSync(join(dataDir, 'db'))).toBe(false)
    expect(existsSync(join(dataDir, 'blobs'))).toBe(false)
    expect(errorOf(await call(laptop, 'conversations.list')).code).toBe('NO_IDENTITY')
    const last = pushes.filter((p) => p.event === 'app.changed').at(-1)
    expect(last).toEqual({ event: 'app.changed', payload: { status: { state: 'new', needsPassphrase: true, notice: 'revoked' } } })
    // A fresh host on that data dir starts from nothing too.
    expect(host(dataDir).status().state).toBe('new')
  })

  it('refusing the digits, or cancelling, ends in "new" with nothing saved', { timeout: 60_000 }, async () => {
    const alice = await onboarded('bea')
    const dataDir = join(root, 'bea-laptop')
    const laptop = host(dataDir)
    const pushes = pushesOf(laptop)
    const offer = resultOf<LinkOfferView>(await call(laptop, 'app.linkStart', { passphrase: PASSPHRASE, name: 'Bea laptop' }))
    const linked = call(alice, 'devices.link', { code: offer.link })
    await waitFor(() => pushes.some((p) => p.event === 'app.linking' && p.payload.stage === 'confirm'), { message: 'the digits' })
    await call(laptop, 'app.linkConfirm', { accept: false })
    expect(errorOf(await linked).code).toBeDefined()
    await waitFor(() => laptop.status().state === 'new', { message: 'back to new' })
    const failed = pushes.find((p) => p.event === 'app.linking' && p.payload.stage === 'failed')
    expect(failed?.event === 'app.linking' && failed.payload.error).toBeTruthy()
    expect(identityExists(dataDir)).toBe(false)

    // Cancelled while the code is on screen: back to new, no failure to tell.
    const before = pushes.length
    resultOf<LinkOfferView>(await call(laptop, 'app.linkStart', { passphrase: PASSPHRASE }))
    expect(laptop.status().state).toBe('linking')
    expect(resultOf(await call(laptop, 'app.linkCancel'))).toBeNull()
    expect(laptop.status().state).toBe('new')
    await new Promise((r) => setTimeout(r, 200))
    expect(pushes.slice(before).some((p) => p.event === 'app.linking' && p.payload.stage === 'failed')).toBe(false)
    expect(identityExists(dataDir)).toBe(false)

    // Cancelled while the code is still being made (here: waiting for a relay reservation that never comes, as
    // alice is no relay): the start answers that, and no code is shown afterwards.
    const relay = resultOf<WhoAmI>(await call(alice, 'identity.whoami')).addresses[0]!
    const slow = createAppHost({ dataDir: join(root, 'bea-tablet'), keyProvider: testProvider, network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [relay] } })
    hosts.push(slow)
    const slowPushes = pushesOf(slow)
    const starting = call(slow, 'app.linkStart', { passphrase: PASSPHRASE })
    await waitFor(() => slow.status().state === 'linking', { message: 'linking' })
    await call(slow, 'app.linkCancel')
    expect(slow.status().state).toBe('new')
    expect(errorOf(await starting).code).toBe('LINK_CANCELLED')
    expect(slow.status().state).toBe('new')
    expect(slowPushes.some((p) => p.event === 'app.linking')).toBe(false)
  })

  it('without pinned ports, the new core takes the port its code showed (remembered in listen.json) and is found there', { timeout: 60_000 }, async () => {
    const alice = await onboarded('dora', false)
    const group = resultOf<ConversationSummary>(await call(alice, 'conversations.create', { kind: 'group', name: 'Notes' }))
    await call(alice, 'messages.send', { conversationId: group.id, body: 'remember the milk' })
    const alicePushes = pushesOf(alice)
    const dataDir = join(root, 'dora-laptop')
    const laptop = host(dataDir, false)
    const pushes = pushesOf(laptop)
    const offer = resultOf<LinkOfferView>(await call(laptop, 'app.linkStart', { passphrase: PASSPHRASE }))
    const linked = call(alice, 'devices.link', { code: offer.link })
    await waitFor(() => pushes.some((p) => p.event === 'app.linking' && p.payload.stage === 'confirm'), { message: 'the digits on the new device' })
    await waitFor(() => alicePushes.some((p) => p.event === 'devices.linking' && p.payload.stage === 'confirm'), { message: 'the digits on alice' })
    await call(laptop, 'app.linkConfirm', { accept: true })
    await call(alice, 'devices.confirmLink', { accept: true })
    resultOf<DeviceView>(await linked)
    await waitFor(() => laptop.status().state === 'ready', { timeoutMs: 20_000, message: 'the laptop ready' })
    const port = corePortAfterLink(offer.link)
    expect(port).not.toBeNull()
    const me = resultOf<WhoAmI>(await call(laptop, 'identity.whoami'))
    expect(me.addresses.some((a) => a.includes(`/tcp/${port}/`))).toBe(true)
    expect(JSON.parse(await readFile(join(dataDir, 'listen.json'), 'utf8'))).toMatchObject({ tcp: port })
    await waitFor(
      async () => resultOf<Page>(await call(laptop, 'messages.page', { conversationId: group.id })).messages.some((m) => m.body === 'remember the milk'),
      { timeoutMs: 20_000, message: 'the history on the laptop' },
    )
  })

  it('refuses to link a device that already has an identity', async () => {
    const alice = await onboarded('cyd')
    expect(errorOf(await call(alice, 'app.linkStart', { passphrase: PASSPHRASE })).code).toBe('IDENTITY_EXISTS')
    expect(resultOf<AppStatus>(await call(alice, 'app.status')).state).toBe('ready')
  })
})

describe('where the new core listens', () => {
  it('reads the port of a direct code, none of a relay circuit', () => {
    expect(withPort(['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/tcp/4001'], 5555)).toEqual([
      '/ip4/127.0.0.1/tcp/5555',
      '/ip4/127.0.0.1/tcp/0/ws',
      '/ip4/127.0.0.1/tcp/4001',
    ])
    expect(corePortAfterLink('hearth://link/garbage')).toBeNull()
  })
})
