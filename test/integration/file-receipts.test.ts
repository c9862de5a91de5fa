import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from '../../node/common/crypto/random.js'
import { waitFor } from '../../node/common/net/testing.js'
import type { AttachmentView } from '../../node/src/api/types.js'
import { peerSource, type ChunkReply } from '../../node/src/core/blobs/blob-sources.js'
import type { CoreEvents } from '../../node/src/core/events.js'
import { filesOf } from '../../node/src/core/history/media-box.js'
import type { ConversationId, MessageId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { sendFile } from '../helpers/files.js'
import { makeGroup } from '../helpers/group.js'

async function fileView(c: TestCore, id: ConversationId, messageId: string): Promise<AttachmentView | undefined> {
  return (await c.core.page(id)).messages.find((m) => m.id === messageId)?.attachments?.[0]
}

const completeNames = (v: AttachmentView | undefined) =>
  (v?.receivedBy ?? [])
    .filter((r) => r.complete)
    .map((r) => r.displayName)
    .sort()

/** How a request to a blob server ended: its error code, or 'served'. */
const outcome = (p: Promise<unknown>) => p.then(() => 'served', (e: { code?: string }) => e.code ?? 'error')

describe('who received our files', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('bob and carol fetch alice’s file: her view and her events say both received it, and a restart keeps it', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    const events: Array<CoreEvents['file.progress']> = []
    const off = alice.core.events.on('file.progress', (p) => events.push(p))

    const sent = await sendFile(alice, id, 'minutes.pdf', randomBytes(300_000))
    // Every other device is a recipient (bob and carol may already be fetching it by the first event).
    await waitFor(() => events.some((e) => e.message === sent.id && e.recipients === 2 && e.receivedBy !== undefined), { message: 'the first event' })
    for (const c of [bob, carol]) {
      await waitFor(async () => (await fileView(c, id, sent.id))?.state === 'complete', { message: `${c.name} to have the file`, timeoutMs: 30_000 })
    }
    await waitFor(async () => completeNames(await fileView(alice, id, sent.id)).length === 2, { message: 'alice to see both receive it' })
    const view = await fileView(alice, id, sent.id)
    expect(view?.recipients).toBe(2)
    expect(completeNames(view)).toEqual(['bob', 'carol'])
    const devices = new Set([bob.identity.deviceId, carol.identity.deviceId])
    for (const r of view?.receivedBy ?? []) {
      expect(devices.has(r.device as never)).toBe(true)
      expect(r.received).toBe(300_000)
    }
    // The UI heard it as it happened, on the file's own progress event.
    await waitFor(() => events.some((e) => e.message === sent.id && e.receivedBy?.filter((r) => r.complete).length === 2), { message: 'an event' })
    off()
    // A file someone else sent carries no receipts on their side.
    expect((await fileView(bob, id, sent.id))?.receivedBy).toBeUndefined()

    const restarted = await alice.restart()
    cores = [restarted, bob, carol]
    expect(completeNames(await fileView(restarted, id, sent.id))).toEqual(['bob', 'carol'])
  })

  it('a stranger’s fetch, a fetch under another conversation or past the end marks nothing; a member’s partial fetch shows as partial', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const dave = await startCore('dave')
    cores = [alice, bob, dave]
    const id = await makeGroup(alice, [bob])
    // Bob downloads nothing by himself: every fetch below is one this test makes.
    await bob.core.updateSettings({ autoDownloadPeerBytes: 0, autoDownloadRelayBytes: 0 })
    await connect(dave, alice)
    await waitFor(() => dave.core.node.connectedPeers().includes(alice.identity.peerId), { message: 'dave connected to alice' })

    const sent = await sendFile(alice, id, 'plans.txt', randomBytes(300_000))
    const blob = filesOf((await alice.core.store.getMessage(id, sent.id as MessageId))!)[0]!.blob
    const chunks = (await alice.core.files.store.get(blob))!.chunks
    expect(chunks).toBeGreaterThan(1)
    const signal = new AbortController().signal
    const fromAlice = (c: TestCore) => peerSource(c.core.node, alice.identity.peerId)
    const readAll = async (p: Promise<ChunkReply>) => {
      const reply = await p
      let n = 0
      for await (const _ of reply.chunks) n++
      return n
    }

    // Dave is in no conversation with alice: the same NOT_FOUND as for a blob she lacks, however he asks.
    expect(await outcome(fromAlice(dave).hashList({ conversation: id, id: blob }, signal))).toBe('NOT_FOUND')
    expect(await outcome(readAll(fromAlice(dave).chunks({ conversation: id, id: blob }, 0, chunks, signal)))).toBe('NOT_FOUND')
    // Bob is a member, but names another conversation, or a window past the end.
    const elsewhere = 'ab'.repeat(16)
    expect(await outcome(readAll(fromAlice(bob).chunks({ conversation: elsewhere, id: blob }, 0, chunks, signal)))).toBe('NOT_FOUND')
    expect(await outcome(readAll(fromAlice(bob).chunks({ conversation: id, id: blob }, chunks - 1, 2, signal)))).toBe('NOT_FOUND')
    let view = await fileView(alice, id, sent.id)
    expect(view).toMatchObject({ recipients: 1, receivedBy: [] })

    // Bob fetches the first chunk only (twice: a chunk fetched again is not counted again): partial, not received.
    for (let i = 0; i < 2; i++) expect(await readAll(fromAlice(bob).chunks({ conversation: id, id: blob }, 0, 1, signal))).toBe(1)
    view = await fileView(alice, id, sent.id)
    expect(view?.receivedBy).toHaveLength(1)
    expect(view?.receivedBy?.[0]).toMatchObject({ displayName: 'bob', device: bob.identity.deviceId, complete: false })
    expect(view?.receivedBy?.[0]?.received).toBe(Math.floor(300_000 / chunks))

    // Bob then downloads it for real: received.
    await bob.core.files.download(id, sent.id, 0)
    await waitFor(async () => (await fileView(bob, id, sent.id))?.state === 'complete', { message: 'bob to have it' })
    await waitFor(async () => completeNames(await fileView(alice, id, sent.id)).length === 1, { message: 'alice to see bob receive it' })
    expect(completeNames(await fileView(alice, id, sent.id))).toEqual(['bob'])
  })
})
