import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { handleProtocol } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import { decodeInvite } from '../../node/src/conversation/invite-code.js'
import { sealInviteDetails, shortInviteKeys } from '../../node/src/conversation/short-invite-keys.js'
import { formatShortInvite, groupForReading, parseShortInvite } from '../../node/src/conversation/short-invite.js'
import { encodeLookupAnswer, INVITE_LOOKUP_LIMITS, INVITE_LOOKUP_PROTOCOL } from '../../node/src/core/membership/join-lookup.js'
import type { JoinServer } from '../../node/src/core/membership/join-server.js'
import { JOIN_LIMITS } from '../../node/src/core/sync/protocol-limits.js'
import { decodeJoinRequest, encodeJoinRequest, JOIN_PROTOCOL } from '../../node/src/sync/sync-frames.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies } from '../helpers/group.js'

async function start<N extends string[]>(into: TestCore[], ...names: N): Promise<{ [K in keyof N]: TestCore }> {
  for (const name of names) into.push(await startCore(name))
  return into.slice(-names.length) as { [K in keyof N]: TestCore }
}

/** The short link of a new invite; fails the test when the core made none. */
async function shortInvite(c: TestCore, id: ConversationId, options: { singleUse?: boolean } = {}): Promise<{ link: string; inviteId: string }> {
  const made = await c.core.createInvite(id, options)
  if (made.shortLink === null) throw new Error('no short link')
  return { link: made.shortLink, inviteId: made.inviteId }
}

/** The same invite pointing at another device's address. */
function aimedAt(link: string, other: TestCore): string {
  const address = other.core.node.addresses()[0]!.replace(/\/p2p\/[^/]+$/, '')
  return formatShortInvite({ ...parseShortInvite(link), locator: multiaddr(address).bytes })
}

describe('short invites', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('a short code typed by hand (groups, lower case) joins with the inviter online, and the first message arrives', async () => {
    const [alice, bob] = await start(cores, 'alice', 'bob')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    const { link } = await shortInvite(alice, id)
    expect(link.length).toBeLessThanOrEqual(60)
    const typed = groupForReading(link).toLowerCase().replaceAll(' ', '-')
    const joined = await bob.core.join(typed)
    expect(joined).toMatchObject({ id, name: 'Family' })
    await waitFor(() => alice.core.members(id).length === 2)
    await alice.core.send(id, 'welcome')
    await waitFor(async () => (await bodies(bob, id)).includes('alice: welcome'), { timeoutMs: 20_000 })
  })

  it('a used single-use code and a revoked code are refused in words for a person', async () => {
    const [alice, bob, charlie] = await start(cores, 'alice', 'bob', 'charlie')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    const once = await shortInvite(alice, id)
    await bob.core.join(once.link)
    await expect(charlie.core.join(once.link)).rejects.toMatchObject({ code: 'INVITE_USED', message: expect.stringMatching(/revoked or has already been used/) })
    const open = await shortInvite(alice, id, { singleUse: false })
    await alice.core.revokeInvite(id, open.inviteId)
    await expect(charlie.core.join(open.link)).rejects.toMatchObject({ code: 'INVITE_REVOKED', message: expect.stringMatching(/revoked or has already been used/) })
    expect(alice.core.members(id)).toHaveLength(2)
  })

  it('a device that does not hold the invite learns nothing and the joiner hears the code is no good; nobody there is unreachable', async () => {
    const [alice, bob, charlie] = await start(cores, 'alice', 'bob', 'charlie')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    const { link } = await shortInvite(alice, id)
    await expect(bob.core.join(aimedAt(link, charlie))).rejects.toMatchObject({ code: 'INVITE_REVOKED' })
    expect(charlie.core.counters.get('invite-lookup-unknown')).toBe(1)
    const gone = formatShortInvite({ ...parseShortInvite(link), locator: multiaddr('/ip4/127.0.0.1/tcp/9').bytes })
    await expect(bob.core.join(gone)).rejects.toMatchObject({ code: 'UNREACHABLE', message: expect.stringMatching(/No one who can let you in is reachable/) })
    expect(alice.core.members(id)).toHaveLength(1)
  })

  it('a device answering garbage, under another secret, or with another conversation does not get the joiner in', async () => {
    const [alice, bob, mallory] = await start(cores, 'alice', 'bob', 'mallory')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    const theirs = (await mallory.core.createConversation({ kind: 'group', name: 'Trap' })).id as ConversationId
    const { link } = await shortInvite(alice, id)
    const keys = shortInviteKeys(parseShortInvite(link).secret)
    const trap = await mallory.core.createInvite(theirs, { singleUse: false })
    const details = {
      conversation: theirs,
      root: decodeInvite(trap.code).root,
      name: 'Family',
      inviteId: trap.inviteId,
      expiresAt: 0,
      addresses: mallory.core.node.addresses(),
      peerId: mallory.core.node.peerId,
      relays: [],
    }
    const answers: Uint8Array[] = [
      encodeCbor({ nonsense: true }),
      encodeLookupAnswer(new Uint8Array(200)),
      encodeLookupAnswer(sealInviteDetails(shortInviteKeys('0'.repeat(19)), mallory.core.node.peerId, details)),
    ]
    let next = 0
    await mallory.core.node.libp2p.unhandle(INVITE_LOOKUP_PROTOCOL)
    await handleProtocol(mallory.core.node, INVITE_LOOKUP_PROTOCOL, INVITE_LOOKUP_LIMITS, async () => answers[next++]!)
    for (let i = 0; i < 3; i++) await expect(bob.core.join(aimedAt(link, mallory))).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' })
    // Someone who saw the code answers with their own conversation, sealed right: the join is still refused, since
    // no invite in that conversation has the key the code makes.
    answers.push(encodeLookupAnswer(sealInviteDetails(keys, mallory.core.node.peerId, details)))
    await expect(bob.core.join(aimedAt(link, mallory))).rejects.toMatchObject({ code: 'INVITE_INVALID' })
    expect(bob.core.listConversations()).toEqual([])
    expect(mallory.core.members(theirs)).toHaveLength(1)
  })

  it('a device that admits the joiner through another invite of another conversation is not followed', async () => {
    const [alice, bob, mallory] = await start(cores, 'alice', 'bob', 'mallory')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    const theirs = (await mallory.core.createConversation({ kind: 'group', name: 'Trap' })).id as ConversationId
    const { link } = await shortInvite(alice, id)
    const trap = decodeInvite((await mallory.core.createInvite(theirs, { singleUse: false })).code)
    const peer = mallory.core.node.peerId
    // Mallory saw the code: her answer opens, names her conversation and her own invite there, and her join server
    // (the real one) admits whoever asks by re-signing the request with that invite's key.
    const keys = shortInviteKeys(parseShortInvite(link).secret)
    await mallory.core.node.libp2p.unhandle(INVITE_LOOKUP_PROTOCOL)
    await handleProtocol(mallory.core.node, INVITE_LOOKUP_PROTOCOL, INVITE_LOOKUP_LIMITS, async () =>
      encodeLookupAnswer(sealInviteDetails(keys, peer, { ...trap, name: 'Family', addresses: mallory.core.node.addresses(), peerId: peer })),
    )
    const server = (mallory.core as unknown as { joinServer: JoinServer }).joinServer
    await mallory.core.node.libp2p.unhandle(JOIN_PROTOCOL)
    await handleProtocol(mallory.core.node, JOIN_PROTOCOL, JOIN_LIMITS, (req, ctx) => {
      const { request } = decodeJoinRequest(req)
      return server.serve(encodeJoinRequest({ ...request, conversation: trap.conversation, inviteId: trap.inviteId }, trap.secret, peer), ctx.peer)
    })
    await expect(bob.core.join(aimedAt(link, mallory))).rejects.toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/another invite/) })
    expect(bob.core.listConversations()).toEqual([])
    // Mallory's log did admit Bob: only the joiner's check kept him out of a conversation the code was not made for.
    await waitFor(() => mallory.core.members(theirs).length === 2)
  })

  it('a removed account cannot come back with an old short code, nor with a new one meant for someone else', async () => {
    const [alice, bob, charlie] = await start(cores, 'alice', 'bob', 'charlie')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    const first = await shortInvite(alice, id, { singleUse: false })
    await bob.core.join(first.link)
    await waitFor(() => alice.core.members(id).length === 2)
    await alice.core.removeMember(id, bob.identity.account)
    await waitFor(() => bob.core.getConversation(id).removed === true, { timeoutMs: 20_000 })
    await expect(bob.core.join(first.link)).rejects.toMatchObject({ code: 'INVITE_REVOKED' })
    const forCharlie = await shortInvite(alice, id, { singleUse: false })
    await expect(bob.core.join(forCharlie.link)).rejects.toMatchObject({ code: 'REMOVED' })
    await charlie.core.join(forCharlie.link)
    await waitFor(() => alice.core.members(id).length === 2)
    expect(alice.core.members(id).map((m) => m.displayName)).toEqual(['alice', 'charlie'])
  })

  it('lists the invites that can still admit someone, with their links, uses, and without revoked or used ones', async () => {
    const [alice, bob] = await start(cores, 'alice', 'bob')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    const once = await shortInvite(alice, id)
    const open = await shortInvite(alice, id, { singleUse: false })
    const spare = await shortInvite(alice, id)
    expect(alice.core.invites(id).map((i) => i.id).sort()).toEqual([once.inviteId, open.inviteId, spare.inviteId].sort())
    await bob.core.join(open.link)
    await alice.core.revokeInvite(id, spare.inviteId)
    const listed = alice.core.invites(id)
    expect(listed.map((i) => i.id).sort()).toEqual([once.inviteId, open.inviteId].sort())
    const reusable = listed.find((i) => i.id === open.inviteId)!
    expect(reusable).toMatchObject({ singleUse: false, uses: 1, shortLink: open.link })
    expect(reusable.createdAt).toBeGreaterThan(Date.now() - 60_000)
    // Each listed invite this device made has its long link too.
    expect(listed.find((i) => i.id === once.inviteId)!.code).toMatch(/^hearth:\/\/join\//)
  })
})

