import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from '../../node/common/crypto/random.js'
import { waitFor } from '../../node/common/net/testing.js'
import { MAX_FILE_PIECE_BYTES } from '../../node/src/api/contract.js'
import type { MessageView } from '../../node/src/api/types.js'
import { filesOf } from '../../node/src/core/history/media-box.js'
import type { ConversationId, MessageId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'
import { coresAndRelays, startTestRelay } from '../helpers/relay-for-cores.js'
import { FileIndex } from '../../node/src/core/blobs/file-index.js'
import { containsBytes, filesUnder, readableBack } from '../helpers/readable.js'
import { fileState, readAll, sendFile } from '../helpers/files.js'

const PIECE = MAX_FILE_PIECE_BYTES

describe('photos and files between cores', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('a file sent to a group arrives byte for byte on each member, with its caption, type and state', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    // A PDF header first, so the type is sniffed from the bytes whatever the name says.
    const bytes = randomBytes(3 * PIECE + 12_345)
    bytes.set(new TextEncoder().encode('%PDF-1.7\n'), 0)
    const sent = await sendFile(alice, id, 'holiday.txt', bytes, 'file', 'from the beach')
    expect(sent.body).toBe('from the beach')
    expect(sent.attachments?.[0]).toMatchObject({ name: 'holiday.txt', size: bytes.length, mime: 'application/pdf', kind: 'file', state: 'complete' })
    for (const c of [bob, carol]) {
      await waitFor(async () => (await fileState(c, id, sent.id)) === 'complete', { message: `${c.name} to have the file`, timeoutMs: 60_000 })
      expect(Buffer.from(await readAll(c, id, sent.id)).equals(Buffer.from(bytes))).toBe(true)
    }
    // What the list shows for it.
    expect(bob.core.getConversation(id).lastMessage?.body).toBe('📎 holiday.txt from the beach')
  })

  it('refuses a file above the size limit before taking any of it', async () => {
    const alice = await startCore('alice')
    cores = [alice]
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    await alice.core.updateSettings({ maxFileBytes: 1000 })
    await expect(alice.core.files.begin(id, 'video.mp4', 1001)).rejects.toThrow(/“video.mp4” is 1001 bytes; Hearth sends files up to 1000 bytes/)
    const { uploadId } = await alice.core.files.begin(id, 'note.txt', 10)
    await expect(alice.core.files.append(uploadId, new Uint8Array(11))).rejects.toThrow(/longer than/)
  })

  it('a file larger than the automatic download size waits for a click, then downloads', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.core.updateSettings({ autoDownloadPeerBytes: 1000, autoDownloadRelayBytes: 1000 })
    const bytes = randomBytes(200_000)
    const sent = await sendFile(alice, id, 'report.pdf', bytes)
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'available', { message: 'bob to see the file offered' })
    await expect(bob.core.files.read(id, sent.id, 0, 0, 10)).rejects.toThrow(/not on this device yet/)
    await bob.core.files.download(id, sent.id, 0)
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'complete', { message: 'bob to download it on request' })
    expect(Buffer.from(await readAll(bob, id, sent.id)).equals(Buffer.from(bytes))).toBe(true)
  })

  it('a download the person cancels waits for a click again (not for a source), and resumes from what it has', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    const size = 40 * 1024 * 1024
    await alice.core.updateSettings({ maxFileBytes: size })
    await bob.core.updateSettings({ autoDownloadPeerBytes: 0, autoDownloadRelayBytes: 0 })
    const bytes = randomBytes(size)
    const sent = await sendFile(alice, id, 'film.mkv', bytes)
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'available', { message: 'bob to see it offered' })
    let cancelled: Promise<void> | undefined
    const off = bob.core.events.on('file.progress', (p) => {
      if (p.message === sent.id && p.received > 0 && p.received < size && cancelled === undefined) cancelled = bob.core.files.cancel(id, sent.id, 0)
    })
    await bob.core.files.download(id, sent.id, 0)
    await waitFor(() => cancelled !== undefined, { message: 'some progress' })
    off()
    await cancelled
    const view = (await bob.core.page(id)).messages.find((m) => m.id === sent.id)?.attachments?.[0]
    expect(view?.state).toBe('available')
    expect(view?.received).toBeGreaterThan(0)
    await bob.core.files.download(id, sent.id, 0)
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'complete', { timeoutMs: 60_000, message: 'bob to finish it' })
    expect(Buffer.from(await readAll(bob, id, sent.id)).equals(Buffer.from(bytes))).toBe(true)
  })

  it('deleting the message for everyone removes its file from every device; clearing media keeps the message', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    const secret = randomBytes(64)
    const bytes = new Uint8Array(100_000)
    bytes.set(secret, 5_000)
    const sent = await sendFile(alice, id, 'plan.txt', bytes)
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'complete', { message: 'bob to have it' })
    const kept = await sendFile(alice, id, 'kept.bin', randomBytes(50_000))
    await waitFor(async () => (await fileState(bob, id, kept.id)) === 'complete', { message: 'bob to have the second' })
    const before = (await bob.core.files.usage()).find((u) => u.conversationId === id)?.bytes ?? 0
    expect(before).toBeGreaterThan(150_000)

    // The row's copy of the file list (with the file's key) as stored; the sealed copy in the history needs the
    // message's content key, which the delete forgets (delete-for-everyone.test.ts).
    const row = (await bob.core.store.getMessage(id, sent.id as MessageId))!
    expect(filesOf(row)[0]?.blob).toBeDefined()
    const fileKey = new TextEncoder().encode(row.files!)
    expect(containsBytes(await readableBack(bob), fileKey)).toBe(true)
    await alice.core.deleteMessage(id, sent.id, true)
    await waitFor(async () => (await bob.core.page(id)).messages.some((m) => m.id === sent.id && m.deleted), { message: 'bob to see it deleted' })
    for (const c of cores) {
      await waitFor(async () => ((await c.core.files.usage()).find((u) => u.conversationId === id)?.bytes ?? 0) < before - 90_000, { message: `${c.name} to drop the file` })
      const deleted = (await c.core.page(id)).messages.find((m) => m.id === sent.id)
      expect(deleted?.attachments).toBeUndefined()
      // The file's key is gone with the message's: nothing on the device opens its chunks any more.
      await waitFor(async () => !containsBytes(await readableBack(c), fileKey), { message: `${c.name} to forget the file's key` })
    }

    await bob.core.files.clear(id)
    expect((await bob.core.files.usage()).find((u) => u.conversationId === id)?.bytes ?? 0).toBe(0)
    expect(await fileState(bob, id, kept.id)).toBe('removed')
    await bob.core.files.download(id, kept.id, 0)
    await waitFor(async () => (await fileState(bob, id, kept.id)) === 'complete', { message: 'bob to fetch it again on request' })
    // The plaintext was never on disk anywhere (blobs are encrypted), before or after (read once LevelDB is closed).
    for (const c of cores) await c.stop()
    for (const c of cores) expect(containsBytes(await filesUnder(c.dir), secret)).toBe(false)
  })
})

describe('photos and files through a relay', () => {
  const bed = coresAndRelays()

  it('alice sends a photo and goes offline; bob, away when she sent it, gets it from the relay alone', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    let bob = await startCore('bob', { relays: [relay.address] })
    bed.cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.stop()

    const bytes = randomBytes(700_000)
    const sent = await sendFile(alice, id, 'sunset.jpg', bytes)
    const blob = filesOf((await alice.core.store.getMessage(id, sent.id as MessageId))!)[0]!.blob
    const index = new FileIndex(alice.core.store.db)
    await waitFor(async () => (await index.get(id, blob))?.relayed === true, { timeoutMs: 30_000, message: 'the relay to hold the photo' })
    await waitFor(async () => (await alice.core.page(id)).messages.find((m) => m.id === sent.id)?.state === 'sent', { message: 'the message on the relay' })
    await alice.stop()

    bob = await bob.restart()
    bed.cores = [alice, bob]
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'complete', { timeoutMs: 60_000, message: 'bob to get the photo from the relay' })
    expect(bob.core.node.connectedPeers()).not.toContain(alice.identity.peerId)
    expect(Buffer.from(await readAll(bob, id, sent.id)).equals(Buffer.from(bytes))).toBe(true)
    // Content-blind: the relay holds only ciphertext.
    expect((await relay.storedBytes()).includes(Buffer.from(bytes.subarray(1000, 1064)))).toBe(false)
  })
})

describe('a large file from several sources', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('alice sends 50 MiB and goes offline halfway through bob’s download; bob completes it from carol, byte for byte', { timeout: 180_000 }, async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    // Bob and carol reach each other directly (as on one home network), not only through alice.
    await connect(bob, carol)
    const size = 50 * 1024 * 1024
    for (const c of cores) await c.core.updateSettings({ maxFileBytes: size, autoDownloadPeerBytes: size })
    // Bob downloads only when asked, so carol has the whole file before his download starts.
    await bob.core.updateSettings({ autoDownloadPeerBytes: 0, autoDownloadRelayBytes: 0 })
    const bytes = randomBytes(size)
    const sent = await sendFile(alice, id, 'video.mp4', bytes)
    await waitFor(async () => (await fileState(carol, id, sent.id)) === 'complete', { timeoutMs: 120_000, message: 'carol to have the file' })
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'available', { message: 'bob to see it offered' })

    let stopping: Promise<void> | undefined
    const off = bob.core.events.on('file.progress', (p) => {
      if (p.message === sent.id && p.received >= size / 2 && stopping === undefined) stopping = alice.stop()
    })
    await bob.core.files.download(id, sent.id, 0)
    await waitFor(async () => (await fileState(bob, id, sent.id)) === 'complete', { timeoutMs: 120_000, message: 'bob to complete the file' })
    off()
    expect(stopping, 'alice went away during the download').toBeDefined()
    await stopping
    expect(Buffer.from(await readAll(bob, id, sent.id)).equals(Buffer.from(bytes))).toBe(true)
    expect(Buffer.from(await readAll(carol, id, sent.id)).equals(Buffer.from(bytes))).toBe(true)
  })
})

describe('files against a hostile member', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('a member who names someone else’s file in a message of their own cannot make anyone lose it by deleting that message', async () => {
    const alice = await startCore('alice')
    const mallory = await startCore('mallory')
    const carol = await startCore('carol')
    cores = [alice, mallory, carol]
    const id = await makeGroup(alice, [mallory, carol])
    const bytes = randomBytes(200_000)
    const sent = await sendFile(alice, id, 'family.jpg', bytes)
    for (const c of [mallory, carol]) await waitFor(async () => (await fileState(c, id, sent.id)) === 'complete', { message: `${c.name} to have it` })

    // Mallory copies the file's description (blob id and key) into a message of her own, as a modified client could.
    const stolen = filesOf((await mallory.core.store.getMessage(id, sent.id as MessageId))!)
    const outbox = (mallory.core as unknown as { outbox: { send(c: ConversationId, intent: unknown): Promise<MessageView> } }).outbox
    const copy = await outbox.send(id, { kind: 'media', body: 'mine now', files: stolen })
    await waitFor(async () => (await carol.core.page(id)).messages.some((m) => m.id === copy.id), { message: 'carol to get the copy' })
    // Carol deletes the copy for herself, and Mallory deletes it for everyone.
    await carol.core.deleteMessage(id, copy.id, false)
    await mallory.core.deleteMessage(id, copy.id, true)
    await waitFor(async () => (await alice.core.page(id)).messages.some((m) => m.id === copy.id && m.deleted), { message: 'alice to see the copy deleted' })
    for (const c of [alice, carol]) {
      expect(await fileState(c, id, sent.id), c.name).toBe('complete')
      expect(Buffer.from(await readAll(c, id, sent.id)).equals(Buffer.from(bytes))).toBe(true)
    }
  })
})
