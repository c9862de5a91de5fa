/**
 * Starting a direct chat with a device nearby (docs/adr/0024), between real cores over real libp2p on loopback: the
 * request, accepting it (both end in the same direct chat and talk), declining it (the asker is told and its invite
 * revoked), and a hostile device that sends what an honest one never would, or too much of it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { request } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import type { ChatRequestView } from '../../node/src/api/types.js'
import { CHAT_REQUEST_LIMITS, CHAT_REQUEST_PROTOCOL, encodeChatRequest } from '../../node/src/core/network/chat-request-frames.js'
import { MAX_PENDING_PER_PEER } from '../../node/src/core/network/chat-requests.js'
import type { ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'

async function start<N extends string[]>(into: TestCore[], ...names: N): Promise<{ [K in keyof N]: TestCore }> {
  for (const name of names) into.push(await startCore(name))
  return into.slice(-names.length) as { [K in keyof N]: TestCore }
}

const incoming = (c: TestCore): ChatRequestView[] => c.core.chatRequests.list().filter((r) => r.direction === 'incoming')

/** What a modified client sends on the chat-request protocol; the answer or the error the receiver gave. */
function send(from: TestCore, to: TestCore, bytes: Uint8Array): Promise<unknown> {
  return (async () => {
    for await (const chunk of request(from.core.node, to.identity.peerId, CHAT_REQUEST_PROTOCOL, bytes, { ...CHAT_REQUEST_LIMITS, maxRequestBytes: 64 * 1024 })) {
      return chunk
    }
    return null
  })()
}

/** A real invite to a real conversation of `from`, as an honest asker would send it. */
async function inviteOf(from: TestCore, expiresInMs = 3_600_000): Promise<string> {
  const c = await from.core.createConversation({ kind: 'direct', name: 'Direct chat' })
  return (await from.core.createInvite(c.id as ConversationId, { expiresInMs, singleUse: true })).code
}

describe('chat requests between devices nearby', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('alice asks, bob sees "alice wants to chat", accepts, and both are in the same direct chat and talk', async () => {
    const [alice, bob] = await start(cores, 'alice', 'bob')
    await connect(alice, bob)
    const events: ChatRequestView[][] = []
    bob.core.events.on('chat-requests.changed', ({ requests }) => events.push(requests))

    const asked = await alice.core.chatRequests.ask(bob.identity.peerId)
    expect(asked.conversation.kind).toBe('direct')
    expect(asked.request).toMatchObject({ direction: 'outgoing', peerId: bob.identity.peerId, state: 'pending' })
    // Asking again while it is pending is the same request, not a second conversation.
    const again = await alice.core.chatRequests.ask(bob.identity.peerId)
    expect(again.conversation.id).toBe(asked.conversation.id)
    expect(alice.core.listConversations()).toHaveLength(1)

    const req = await waitFor(() => incoming(bob)[0])
    expect(req).toMatchObject({ displayName: 'alice', account: alice.identity.account, peerId: alice.identity.peerId, conversationId: asked.conversation.id })
    expect(events.at(-1)?.[0]?.id).toBe(req.id)

    const joined = await bob.core.chatRequests.accept(req.id)
    expect(joined.id).toBe(asked.conversation.id)
    expect(joined.kind).toBe('direct')
    expect(incoming(bob)).toEqual([])
    // Alice's request is answered once bob is a member.
    await waitFor(() => alice.core.chatRequests.list().length === 0, { message: 'the outgoing request to be answered' })
    await waitFor(() => alice.core.members(joined.id as ConversationId).length === 2)

    // Asking again now opens the direct chat they have, with no new request and no new conversation.
    const later = await alice.core.chatRequests.ask(bob.identity.peerId)
    expect(later).toMatchObject({ request: null, conversation: { id: joined.id } })
    expect(alice.core.listConversations()).toHaveLength(1)
    expect(alice.core.chatRequests.list()).toEqual([])

    await bob.core.send(joined.id as ConversationId, 'hi alice, it worked')
    await waitFor(async () => (await alice.core.page(joined.id as ConversationId)).messages.some((m) => m.body === 'hi alice, it worked'), {
      message: 'the first message at alice',
    })
  })

  it('bob declines: alice is told, her invite is revoked, and the request is gone on both sides', async () => {
    const [alice, bob] = await start(cores, 'alice', 'bob')
    await connect(alice, bob)
    const asked = await alice.core.chatRequests.ask(bob.identity.peerId)
    const req = await waitFor(() => incoming(bob)[0])
    // The invite the request carried (a seam: what a modified client would keep and try later).
    const code = (bob.core as unknown as { chatRequests: { incoming: Map<string, { invite: string }> } }).chatRequests.incoming.get(req.id)!.invite
    await bob.core.chatRequests.decline(req.id)
    expect(incoming(bob)).toEqual([])
    await waitFor(() => alice.core.chatRequests.list()[0]?.state === 'declined', { message: 'alice to hear of the decline' })
    await waitFor(async () => {
      const err = await bob.core.join(code).catch((e: unknown) => e)
      return (err as { code?: string }).code === 'INVITE_REVOKED'
    })
    expect(alice.core.members(asked.conversation.id as ConversationId)).toHaveLength(1)
    await expect(bob.core.chatRequests.accept(req.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('asking a device that is not connected, or that does not take requests, is a clear error', async () => {
    const [alice, bob] = await start(cores, 'alice', 'bob')
    await expect(alice.core.chatRequests.ask(bob.identity.peerId)).rejects.toMatchObject({ code: 'UNREACHABLE' })
    expect(alice.core.listConversations()).toEqual([])
    // A device that does not speak the protocol (a relay, an older Hearth) is said so in words.
    await (bob.core as unknown as { chatRequests: { stop(): Promise<void> } }).chatRequests.stop()
    await connect(alice, bob)
    await expect(alice.core.chatRequests.ask(bob.identity.peerId)).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: 'That device does not take chat requests: it may be a relay, or an older Hearth.',
    })
  })

  it('hostile requests are refused, counted, and leave nothing pending', async () => {
    const [alice, bob, mallory] = await start(cores, 'alice', 'bob', 'mallory')
    await connect(mallory, bob)
    await connect(alice, bob)
    const malloryInvite = await inviteOf(mallory)
    const aliceInvite = await inviteOf(alice)
    const tampered = Uint8Array.from(mallory.identity.cert.bytes)
    tampered[tampered.length - 1]! ^= 1
    const cases: Array<[string, Uint8Array, string]> = [
      ['garbage', Uint8Array.of(1, 2, 3, 4, 5), 'MALFORMED'],
      ['an unknown version', encodeCbor({ v: 2, t: 'ask', i: malloryInvite, c: mallory.identity.cert.bytes }), 'UNSUPPORTED_VERSION'],
      ['an unknown field', encodeCbor({ v: 1, t: 'ask', i: malloryInvite, c: mallory.identity.cert.bytes, x: 1 }), 'MALFORMED'],
      ['someone else’s certificate', encodeChatRequest({ t: 'ask', invite: malloryInvite, cert: alice.identity.cert.bytes }), 'UNAUTHORIZED'],
      ['a forged certificate', encodeChatRequest({ t: 'ask', invite: malloryInvite, cert: tampered }), 'BAD_SIGNATURE'],
      ['an invite to someone else’s device', encodeChatRequest({ t: 'ask', invite: aliceInvite, cert: mallory.identity.cert.bytes }), 'INVITE_INVALID'],
      ['an invite that is not one', encodeChatRequest({ t: 'ask', invite: 'hearth://join/nope', cert: mallory.identity.cert.bytes }), 'INVITE_INVALID'],
      ['a decline of nothing asked', encodeChatRequest({ t: 'decline', conversation: 'ab'.repeat(16) }), 'NOT_FOUND'],
    ]
    for (const [what, bytes, code] of cases) {
      await expect(send(mallory, bob, bytes), what).rejects.toMatchObject({ code })
      // Stay under the protocol's rate limit: these are refused for what they are, not for how fast they come.
      await new Promise((r) => setTimeout(r, 1_050))
    }
    const expired = await inviteOf(mallory, 1)
    await new Promise((r) => setTimeout(r, 5))
    await expect(send(mallory, bob, encodeChatRequest({ t: 'ask', invite: expired, cert: mallory.identity.cert.bytes }))).rejects.toMatchObject({ code: 'INVITE_EXPIRED' })
    // Larger than any honest request: refused from its length prefix.
    await new Promise((r) => setTimeout(r, 1_050))
    await expect(send(mallory, bob, new Uint8Array(8 * 1024))).rejects.toMatchObject({ code: 'TOO_LARGE' })

    expect(incoming(bob)).toEqual([])
    expect(bob.core.counters.snapshot()['chat-request-refused']).toBe(cases.length + 1)
  }, 30_000)

  it('a flood from one device is capped: a few pending requests at most, the same one asked twice counts once', async () => {
    const [bob, mallory] = await start(cores, 'bob', 'mallory')
    await connect(mallory, bob)
    const results: string[] = []
    const first = await inviteOf(mallory)
    for (let i = 0; i < 12; i++) {
      const code = i <= 1 ? first : await inviteOf(mallory)
      const outcome = await send(mallory, bob, encodeChatRequest({ t: 'ask', invite: code, cert: mallory.identity.cert.bytes })).then(
        () => 'ok',
        (err: { code?: string }) => err.code ?? 'error',
      )
      results.push(outcome)
    }
    const pending = incoming(bob).filter((r) => r.peerId === mallory.identity.peerId)
    expect(pending).toHaveLength(MAX_PENDING_PER_PEER)
    // The repeat of the first was answered ok but is still one request.
    expect(results.slice(0, 2)).toEqual(['ok', 'ok'])
    expect(results.filter((r) => r === 'ok')).toHaveLength(MAX_PENDING_PER_PEER + 1)
    expect(results.filter((r) => r === 'RATE_LIMITED')).toHaveLength(12 - MAX_PENDING_PER_PEER - 1)
    expect(bob.core.counters.snapshot()['chat-request-capped']).toBeGreaterThanOrEqual(1)
  }, 30_000)

  it('an archived chat comes back with a new message unless it is muted (then it stays archived, still counted unread)', async () => {
    const [alice, bob] = await start(cores, 'alice', 'bob')
    await connect(alice, bob)
    const asked = await alice.core.chatRequests.ask(bob.identity.peerId)
    const id = asked.conversation.id as ConversationId
    await bob.core.chatRequests.accept((await waitFor(() => incoming(bob)[0])).id)
    await waitFor(() => alice.core.members(id).length === 2)

    await bob.core.setConversationPrefs(id, { archived: true, mute: { level: 'nothing', forMs: null } })
    await alice.core.send(id, 'while muted')
    await waitFor(() => bob.core.getConversation(id).unread === 1, { message: 'the muted message counted unread' })
    expect(bob.core.getConversation(id).archived).toBe(true)

    await bob.core.setConversationPrefs(id, { mute: { level: 'all', forMs: null } })
    await alice.core.send(id, 'now loud')
    await waitFor(() => bob.core.getConversation(id).archived === false, { message: 'the archived chat to come back' })
  })
})
