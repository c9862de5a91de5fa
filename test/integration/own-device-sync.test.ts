/**
 * One person's devices stay in step, with real cores, real pairing and the real `/hearth/own-sync/1.0.0`: what the
 * phone reads is read on the laptop, what the laptop mutes and pins is muted and pinned on the phone, whom one
 * verifies the other shows verified, and nobody but the account's own devices is answered.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { requestOne } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { prefixRange } from '../../node/common/storage/keyspace.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import type { Core } from '../../node/src/core/core.js'
import { MAX_DRAFT_CHARS, MAX_SYNC_ENTRIES, OWN_SYNC_LIMITS, OWN_SYNC_PROTOCOL, encodeSyncRequest } from '../../node/src/core/devices/own-sync-frames.js'
import type { AccountId, ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { link } from '../helpers/link-devices.js'

let cores: TestCore[] = []

afterEach(async () => {
  await stopAll(cores)
  cores = []
})

/** Alice's phone and a laptop linked to it, and bob, all connected, in one conversation. */
async function aliceTwiceAndBob(laptopOptions: { onRevoked?: () => void } = {}): Promise<{ phone: TestCore; laptop: TestCore; bob: TestCore; id: ConversationId }> {
  const phone = await startCore('alice-phone')
  const bob = await startCore('bob')
  cores.push(phone, bob)
  await connect(phone, bob)
  const chat = await phone.core.createConversation({ kind: 'group', name: 'Alice and Bob' })
  const id = chat.id as ConversationId
  await bob.core.join((await phone.core.createInvite(id)).code)
  const { linked } = await link(phone.core)
  const laptop = await startCore('alice-laptop', { identity: linked.identity, ...laptopOptions })
  cores.push(laptop)
  await connect(laptop, phone)
  await connect(laptop, bob)
  await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)
  await waitFor(() => laptop.core.listConversations().some((c) => c.id === id), { message: 'the laptop has the conversation' })
  return { phone, laptop, bob, id }
}

/** The own-sync stamps a core holds on disk (`osync/`), decrypted. */
async function stamps(core: Core): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for await (const [k, v] of core.store.db.iterate(prefixRange('osync'))) out[k] = new TextDecoder().decode(core.store.openSealed(k, v))
  return out
}

describe('own-device sync', () => {
  it('read on the phone is read on the laptop; muted and pinned on the laptop is so on the phone; a new name follows', async () => {
    const { phone, laptop, bob, id } = await aliceTwiceAndBob()

    for (const body of ['one', 'two', 'three']) await bob.core.send(id, body)
    await waitFor(() => phone.core.getConversation(id).unread === 3, { message: 'the phone shows 3 unread' })
    await waitFor(() => laptop.core.getConversation(id).unread === 3, { message: 'the laptop shows 3 unread' })

    // Whoever watches the laptop's list hears of it (the renderer updates its badge from this event).
    let heard = -1
    const off = laptop.core.events.on('conversation.updated', ({ conversation }) => {
      if (conversation.id === id) heard = conversation.unread
    })
    await phone.core.markRead(id)
    await waitFor(() => laptop.core.getConversation(id).unread === 0, { message: 'read on the phone clears the laptop' })
    off()
    expect(heard).toBe(0)

    // The laptop reading what the phone wrote is alice reading her own message: the phone shows it delivered (bob's
    // device has it), not read, until bob reads it.
    const sent = await phone.core.send(id, 'from the phone')
    await waitFor(async () => (await laptop.core.page(id)).messages.some((m) => m.id === sent.id), { message: 'the laptop has it' })
    await waitFor(async () => (await bob.core.page(id)).messages.some((m) => m.id === sent.id), { message: 'bob has it' })
    await laptop.core.markRead(id)
    const state = async () => (await phone.core.page(id)).messages.find((m) => m.id === sent.id)!.state
    await waitFor(async () => (await state()) === 'delivered', { message: 'delivered to bob' })
    await new Promise((r) => setTimeout(r, 500))
    expect(await state()).toBe('delivered')
    await bob.core.markRead(id)
    await waitFor(async () => (await state()) === 'read', { message: 'read by bob' })

    await laptop.core.setConversationPrefs(id, { mute: { level: 'nothing', forMs: null }, pinned: true })
    await waitFor(() => phone.core.getConversation(id).mute?.level === 'nothing', { message: 'muted on the phone' })
    const onPhone = phone.core.getConversation(id)
    expect(onPhone.mute).toEqual({ level: 'nothing', until: null })
    expect(onPhone.pinnedAt).toBe(laptop.core.getConversation(id).pinnedAt)
    expect(onPhone.pinnedAt).not.toBeNull()

    // And back: the phone unpins; the laptop follows. A later change wins over an earlier one.
    await phone.core.setConversationPrefs(id, { pinned: false })
    await waitFor(() => laptop.core.getConversation(id).pinnedAt === null, { message: 'unpinned on the laptop' })
    expect(laptop.core.getConversation(id).mute?.level).toBe('nothing')

    // The person's name is theirs, not a device's.
    await laptop.core.updateSettings({ displayName: 'Alice L.' })
    await waitFor(() => phone.core.settings().displayName === 'Alice L.', { message: 'the phone takes the new name' })
    expect(phone.core.identity.displayName).toBe('Alice L.')
    // So are the relays they chose.
    const relay = `/ip4/127.0.0.1/tcp/9/p2p/${bob.identity.peerId}`
    await laptop.core.updateSettings({ relays: [relay] })
    await waitFor(() => phone.core.settings().relays.includes(relay), { message: 'the phone takes the relays' })
    // Sizes of downloads are the device's own (its network, its disk): they stay where they were set.
    await laptop.core.updateSettings({ autoDownloadPeerBytes: 1234 })
    await laptop.core.setConversationPrefs(id, { archived: true })
    await waitFor(() => phone.core.getConversation(id).archived === true, { message: 'archived on the phone' })
    expect(phone.core.settings().autoDownloadPeerBytes).not.toBe(1234)
    expect(phone.core.counters.get('own-sync-refused')).toBe(0)
  })

  it('comes back in step after being apart: changes made while disconnected meet on reconnecting', async () => {
    const { phone, laptop, id } = await aliceTwiceAndBob()
    await laptop.core.node.libp2p.hangUp(phone.core.node.libp2p.peerId)
    await waitFor(() => !phone.core.node.connectedPeers().includes(laptop.identity.peerId), { message: 'apart' })
    await phone.core.setConversationPrefs(id, { archived: true })
    await new Promise((r) => setTimeout(r, 5))
    await laptop.core.setConversationPrefs(id, { mute: { level: 'mentions', forMs: null } })
    expect(laptop.core.getConversation(id).archived).toBe(false)
    await connect(laptop, phone)
    // Whole records per conversation: the later change (the laptop's mute) wins on both.
    await waitFor(() => phone.core.getConversation(id).mute?.level === 'mentions', { message: 'the phone takes the later change' })
    expect(phone.core.getConversation(id).archived).toBe(false)
    expect(laptop.core.getConversation(id).mute?.level).toBe('mentions')

    // A restart stamps nothing anew: what was agreed stays agreed (a fresh stamp would beat a later change elsewhere).
    // Both devices' names are stored first (they arrive on their own, in the background).
    await waitFor(async () => Object.keys(await stamps(phone.core)).filter((k) => k.includes('d/')).length === 2, { message: 'both device names stored' })
    const before = await stamps(phone.core)
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(2)
    cores = cores.filter((c) => c !== phone)
    const again = await phone.restart()
    cores.push(again)
    expect(await stamps(again.core)).toEqual(before)
    expect(again.core.getConversation(id).mute?.level).toBe('mentions')
  })

  it('answers only the account\'s own devices, and refuses a map too large', async () => {
    const { phone, laptop, bob, id } = await aliceTwiceAndBob()
    const prefs = { mute: { level: 'nothing', until: null }, archived: false, pinnedAt: null }
    const honest = encodeSyncRequest({ whole: false, entries: [[`c/${id}`, { v: prefs, h: '9000000000000-000000', d: bob.identity.deviceId }]] })

    // Bob (another account) is refused and counted, and changes nothing.
    await expect(requestOne(bob.core.node, phone.identity.peerId, OWN_SYNC_PROTOCOL, honest, OWN_SYNC_LIMITS)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    expect(phone.core.counters.get('own-sync-refused')).toBe(1)
    expect(phone.core.getConversation(id).mute?.level).toBe('all')

    // The laptop (ours) with more entries than an exchange may carry: refused before any entry is looked at.
    const many = Array.from({ length: MAX_SYNC_ENTRIES + 1 }, (_, i) => [`c/${i.toString(16).padStart(32, '0')}`, prefs, '0000000000001-000000', laptop.identity.deviceId])
    const tooMany = encodeCbor({ v: 1, w: false, e: many })
    expect(tooMany.byteLength).toBeLessThan(OWN_SYNC_LIMITS.maxRequestBytes)
    await expect(requestOne(laptop.core.node, phone.identity.peerId, OWN_SYNC_PROTOCOL, tooMany, OWN_SYNC_LIMITS)).rejects.toMatchObject({ code: 'TOO_LARGE' })
    expect(phone.core.counters.get('own-sync-too-large')).toBe(1)

    // More bytes than the protocol takes: the framing refuses it from its length alone.
    const huge = encodeCbor({ v: 1, w: false, e: [['s/name', 'x'.repeat(OWN_SYNC_LIMITS.maxRequestBytes), '0000000000001-000000', laptop.identity.deviceId]] })
    const generous = { ...OWN_SYNC_LIMITS, maxRequestBytes: 4 * OWN_SYNC_LIMITS.maxRequestBytes }
    await expect(requestOne(laptop.core.node, phone.identity.peerId, OWN_SYNC_PROTOCOL, huge, generous)).rejects.toMatchObject({ code: 'TOO_LARGE' })

    // A stamp from far in the future is not taken even from our own device.
    const future = encodeSyncRequest({ whole: false, entries: [[`c/${id}`, { v: prefs, h: '9000000000000-000000', d: laptop.identity.deviceId }]] })
    await requestOne(laptop.core.node, phone.identity.peerId, OWN_SYNC_PROTOCOL, future, OWN_SYNC_LIMITS)
    expect(phone.core.counters.get('own-sync-future')).toBe(1)
    expect(phone.core.getConversation(id).mute?.level).toBe('all')
  })

  it('a revoked device that keeps running is no longer answered', async () => {
    const { phone, laptop, id } = await aliceTwiceAndBob({ onRevoked: () => {} })
    const prefs = { mute: { level: 'nothing', until: null }, archived: false, pinnedAt: null }
    await phone.core.devices.revoke(laptop.identity.deviceId)
    const later = encodeSyncRequest({ whole: false, entries: [[`c/${id}`, { v: prefs, h: '0000000000001-000000', d: laptop.identity.deviceId }]] })
    // The laptop's own exchanges (its name, at start) may be refused too: count this one on top of those.
    const refusedBefore = phone.core.counters.get('own-sync-refused')
    await expect(requestOne(laptop.core.node, phone.identity.peerId, OWN_SYNC_PROTOCOL, later, OWN_SYNC_LIMITS)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    expect(phone.core.counters.get('own-sync-refused')).toBeGreaterThan(refusedBefore)
    expect(phone.core.getConversation(id).mute?.level).toBe('all')
  })

  it('each device names itself after its computer; a rename on one shows on the other', async () => {
    const { phone, laptop } = await aliceTwiceAndBob()
    const laptopId = laptop.identity.deviceId
    await waitFor(() => phone.core.devices.list().find((d) => d.device === laptopId)?.kind !== '', { message: 'the phone learns the laptop’s label' })
    const onPhone = phone.core.devices.list().find((d) => d.device === laptopId)!
    expect(onPhone.name).toBe(laptop.core.devices.list()[0]!.name)
    phone.core.devices.rename(laptopId, 'Kitchen laptop')
    await waitFor(() => laptop.core.devices.list()[0]!.name === 'Kitchen laptop', { message: 'the laptop shows the name the phone gave it' })
    expect(() => phone.core.devices.rename(laptopId, ' ')).toThrow(/device name must not be empty/)
  })

  it('a draft typed on the laptop is the phone\'s draft too, told as draft.changed; cleared everywhere; kept over a restart', async () => {
    const { phone, laptop, bob, id } = await aliceTwiceAndBob()
    const told: Array<{ conversation: string; text: string }> = []
    const off = phone.core.events.on('draft.changed', (e) => told.push(e))
    expect(phone.core.drafts.get(id)).toEqual({ text: '', at: null })
    laptop.core.drafts.set(id, 'half a thought')
    await waitFor(() => phone.core.drafts.get(id).text === 'half a thought', { message: 'the phone has the draft' })
    expect(phone.core.drafts.get(id).at).toBe(laptop.core.drafts.get(id).at)
    await waitFor(() => told.length === 1, { message: 'draft.changed on the phone' })
    expect(told[0]).toEqual({ conversation: id, text: 'half a thought' })
    // Another account never hears of it.
    expect(bob.core.drafts.get(id).text).toBe('')

    // Sending clears it: '' is set everywhere.
    laptop.core.drafts.set(id, '')
    await waitFor(() => phone.core.drafts.get(id).text === '', { message: 'cleared on the phone' })
    await waitFor(() => told.length === 2, { message: 'the clearing is told' })
    expect(told[1]).toEqual({ conversation: id, text: '' })
    // A change made here is not told here (the composer that made it has it).
    phone.core.drafts.set(id, 'from the phone')
    await waitFor(() => laptop.core.drafts.get(id).text === 'from the phone', { message: 'the laptop has the phone\'s draft' })
    expect(told).toHaveLength(2)
    off()

    expect(() => laptop.core.drafts.set(id, 'x'.repeat(MAX_DRAFT_CHARS + 1))).toThrow(/at most/)
    cores = cores.filter((c) => c !== phone)
    const again = await phone.restart()
    cores.push(again)
    expect(again.core.drafts.get(id).text).toBe('from the phone')
  })

  it('long drafts on many conversations do not stop the rest from meeting: the newest go first', async () => {
    const { phone, laptop, id } = await aliceTwiceAndBob()
    await laptop.core.node.libp2p.hangUp(phone.core.node.libp2p.peerId)
    await waitFor(() => !phone.core.node.connectedPeers().includes(laptop.identity.peerId), { message: 'apart' })
    // Six drafts of 64 Ki three-byte characters: over 1 MiB together, more than one exchange carries.
    const others = Array.from({ length: 6 }, (_, i) => (`${i}`.repeat(32)) as ConversationId)
    for (const other of others) {
      laptop.core.drafts.set(other, '語'.repeat(MAX_DRAFT_CHARS - 1) + other[0]!)
      await new Promise((r) => setTimeout(r, 2))
    }
    await laptop.core.setConversationPrefs(id, { archived: true })
    await connect(laptop, phone)
    await waitFor(() => phone.core.getConversation(id).archived === true, { message: 'the prefs still meet' })
    await waitFor(() => phone.core.drafts.get(others[5]!).text.endsWith('5'), { message: 'the newest draft arrives' })
    expect(laptop.core.counters.get('own-sync-too-large')).toBe(0)
    expect(phone.core.counters.get('own-sync-too-large')).toBe(0)
  })

  it('bob verified on the phone is verified on the laptop; cleared on the laptop, cleared on the phone; a mark names its key', async () => {
    const { phone, laptop, bob, id } = await aliceTwiceAndBob()
    const BOB = bob.identity.account as AccountId
    const bobOn = (c: TestCore) => c.core.members(id).find((m) => m.account === BOB)!
    expect(bobOn(laptop).verified).toBe(false)
    let heard = false
    const off = laptop.core.events.on('members.changed', ({ conversation, members }) => {
      if (conversation === id && members.find((m) => m.account === BOB)?.verified === true) heard = true
    })
    await phone.core.people.verify(BOB)
    await waitFor(() => bobOn(laptop).verified, { message: 'the laptop shows bob verified' })
    off()
    // The member list is shown again with the badge, and the mark is the one made on the phone, key and devices.
    expect(heard).toBe(true)
    expect(laptop.core.people.safetyNumber(BOB).verified).toBe(true)
    const mark = (await stamps(laptop.core))[`osync\u0000v/${BOB}`]
    expect(JSON.parse(mark!).v).toMatchObject({ key: BOB, how: 'compared', devices: [bob.identity.deviceId] })

    await laptop.core.people.unverify(BOB)
    await waitFor(() => !bobOn(phone).verified, { message: 'cleared on the phone' })
    expect(phone.core.people.safetyNumber(BOB).verified).toBe(false)

    // Apart, the phone marks bob and then the laptop clears him: on meeting, the later (the clearing) wins on both.
    await laptop.core.node.libp2p.hangUp(phone.core.node.libp2p.peerId)
    await waitFor(() => !phone.core.node.connectedPeers().includes(laptop.identity.peerId), { message: 'apart' })
    await phone.core.people.verify(BOB)
    await new Promise((r) => setTimeout(r, 5))
    await laptop.core.people.unverify(BOB)
    await connect(laptop, phone)
    await waitFor(async () => (await stamps(phone.core))[`osync\u0000v/${BOB}`]?.includes('"v":null') === true, { message: 'the phone takes the clearing' })
    expect(bobOn(phone).verified).toBe(false)
    expect(bobOn(laptop).verified).toBe(false)

    // Our own device sends a mark for bob that names another key than his: never "verified", but "not the key you
    // verified", as a mark made here would read.
    const soon = () => `${String(Date.now() + 1000).padStart(13, '0')}-000000`
    const forged = { key: 'e'.repeat(64), at: 1, how: 'scanned', devices: [bob.identity.deviceId] }
    const send = (k: string, v: unknown) =>
      requestOne(laptop.core.node, phone.identity.peerId, OWN_SYNC_PROTOCOL, encodeSyncRequest({ whole: false, entries: [[k, { v, h: soon(), d: laptop.identity.deviceId }]] }), OWN_SYNC_LIMITS)
    await send(`v/${BOB}`, forged)
    await waitFor(() => bobOn(phone).verifiedKeyChanged === true, { message: 'the phone takes the mark for its key' })
    expect(bobOn(phone).verified).toBe(false)
    // A mark of alice herself is refused; one under a malformed account id is not a mark at all.
    const badBefore = phone.core.counters.get('own-sync-bad-entry')
    await send(`v/${phone.identity.account}`, { ...forged, key: phone.identity.account })
    expect(phone.core.counters.get('own-sync-bad-entry')).toBe(badBefore + 1)
    await send(`v/${BOB.toUpperCase()}`, { ...forged, key: BOB })
    const held = Object.keys(await stamps(phone.core)).filter((k) => k.includes('v/'))
    expect(held).toEqual([`osync\u0000v/${BOB}`])
    // Bob, another account, cannot write it.
    const fromBob = encodeSyncRequest({ whole: false, entries: [[`v/${BOB}`, { v: { ...forged, key: BOB }, h: soon(), d: bob.identity.deviceId }]] })
    await expect(requestOne(bob.core.node, phone.identity.peerId, OWN_SYNC_PROTOCOL, fromBob, OWN_SYNC_LIMITS)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    expect(bobOn(phone).verified).toBe(false)

    // A restart stamps no mark anew (the record and its stamp agree) and reads the mark as before.
    const marks = async (c: TestCore) => Object.entries(await stamps(c.core)).filter(([k]) => k.includes('v/'))
    const before = await marks(phone)
    cores = cores.filter((c) => c !== phone)
    const again = await phone.restart()
    cores.push(again)
    expect(await marks(again)).toEqual(before)
    expect(bobOn(again)).toMatchObject({ verified: false, verifiedKeyChanged: true })
  })
})
