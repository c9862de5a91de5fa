import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from '../../node/common/crypto/random.js'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { fileState, readAll, sendFile } from '../helpers/files.js'
import { makeGroup } from '../helpers/group.js'

const MiB = 1024 * 1024
const MINUTE = 60_000

/** Blob files under a core's data directory (blobs/<2 hex>/<id>.blob). */
async function blobFiles(c: TestCore): Promise<string[]> {
  const root = join(c.dir, 'blobs')
  const out: string[] = []
  for (const shard of await readdir(root)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue
    for (const name of await readdir(join(root, shard))) out.push(name)
  }
  return out
}

describe('the room for received files', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('removes the least recently used received files beyond it, keeps the ones in use, and lets them come back', async () => {
    // Bob's clock runs ahead when the test says so: what he received before then looks old to him.
    let ahead = 0
    const alice = await startCore('alice')
    const bob = await startCore('bob', { now: () => Date.now() + ahead })
    cores = [alice, bob]
    const id: ConversationId = await makeGroup(alice, [bob])
    await bob.core.updateSettings({ keepReceivedBytes: MiB })

    const sent: Array<{ id: string; bytes: Uint8Array }> = []
    for (const n of [1, 2, 3]) {
      const bytes = randomBytes(300_000)
      const view = await sendFile(alice, id, `photo-${n}.bin`, bytes)
      sent.push({ id: view.id, bytes })
      await waitFor(async () => (await fileState(bob, id, view.id)) === 'complete', { message: `bob to have file ${n}`, timeoutMs: 30_000 })
    }
    // Three files of about 300 KB fit in 1 MiB: nothing is removed.
    expect(await blobFiles(bob)).toHaveLength(3)

    // Eleven minutes later bob opens the first one again; then a fourth arrives and takes him over the room.
    ahead = 11 * MINUTE
    expect(Buffer.from(await readAll(bob, id, sent[0]!.id)).equals(Buffer.from(sent[0]!.bytes))).toBe(true)
    const fourth = randomBytes(300_000)
    const view4 = await sendFile(alice, id, 'photo-4.bin', fourth)
    await waitFor(async () => (await fileState(bob, id, view4.id)) === 'complete', { message: 'bob to have file 4', timeoutMs: 30_000 })

    // Of the two he has not touched since they came, the older goes: that is enough for the rest to fit in 90 % of the
    // room (four of about 300 KB), so the other stays; the one he opened and the one that just came are not candidates.
    await waitFor(async () => (await fileState(bob, id, sent[1]!.id)) === 'removed', { message: 'file 2 removed from bob', timeoutMs: 10_000 })
    for (const m of [sent[0]!.id, sent[2]!.id, view4.id]) expect(await fileState(bob, id, m)).toBe('complete')
    expect(await blobFiles(bob)).toHaveLength(3)
    const used = (await bob.core.files.usage()).reduce((n, u) => n + u.bytes, 0)
    expect(used).toBeLessThanOrEqual(0.9 * MiB)

    // Alice's own files are never counted nor removed, whatever her room.
    await alice.core.updateSettings({ keepReceivedBytes: MiB })
    for (const s of [...sent, { id: view4.id }]) expect(await fileState(alice, id, s.id)).toBe('complete')

    // A removed file comes back on request, byte for byte (the sender still has it).
    await bob.core.files.download(id, sent[1]!.id, 0)
    await waitFor(async () => (await fileState(bob, id, sent[1]!.id)) === 'complete', { message: 'file 2 back on bob', timeoutMs: 30_000 })
    expect(Buffer.from(await readAll(bob, id, sent[1]!.id)).equals(Buffer.from(sent[1]!.bytes))).toBe(true)
  })

  it('a smaller room takes effect when it is set, and no limit removes nothing', async () => {
    let ahead = 0
    const alice = await startCore('alice')
    const bob = await startCore('bob', { now: () => Date.now() + ahead })
    cores = [alice, bob]
    const id: ConversationId = await makeGroup(alice, [bob])
    await bob.core.updateSettings({ keepReceivedBytes: 0 })
    const ids: string[] = []
    for (const n of [1, 2, 3]) {
      const view = await sendFile(alice, id, `doc-${n}.bin`, randomBytes(600_000))
      ids.push(view.id)
      await waitFor(async () => (await fileState(bob, id, view.id)) === 'complete', { message: `bob to have file ${n}`, timeoutMs: 30_000 })
    }
    ahead = 11 * MINUTE
    await bob.core.updateSettings({ keepReceivedBytes: 0 })
    expect(await blobFiles(bob)).toHaveLength(3)
    await expect(bob.core.updateSettings({ keepReceivedBytes: 1000 })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await bob.core.updateSettings({ keepReceivedBytes: MiB })
    // 1.8 MB in 1 MiB: two go (the oldest first), one stays.
    await waitFor(async () => (await blobFiles(bob)).length === 1, { message: 'two files removed from bob', timeoutMs: 10_000 })
    expect(await fileState(bob, id, ids[2]!)).toBe('complete')
    for (const m of ids.slice(0, 2)) expect(await fileState(bob, id, m)).toBe('removed')
    // A restart keeps the setting.
    const again = await bob.restart()
    cores = [alice, again]
    expect(again.core.settings().keepReceivedBytes).toBe(MiB)
  })
})
