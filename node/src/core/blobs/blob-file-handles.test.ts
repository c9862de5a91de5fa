import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobFileHandles } from './blob-file-handles.js'

describe('BlobFileHandles', () => {
  let dir: string
  const path = (id: string): string => join(dir, `${id}.blob`)
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-handles-'))
    for (const id of ['a', 'b', 'c']) await writeFile(path(id), id)
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reuses a handle, keeps at most `max` idle ones open (least recently used closed first)', async () => {
    const files = new BlobFileHandles(2)
    const first = await files.acquire('a', path('a'))
    await first.release()
    const again = await files.acquire('a', path('a'))
    expect(again.handle).toBe(first.handle)
    await again.release()
    for (const id of ['b', 'c']) await (await files.acquire(id, path(id))).release()
    // 'a' was the least recently used of three: closed (a closed FileHandle's fd is -1).
    expect(first.handle!.fd).toBe(-1)
    const b = await files.acquire('b', path('b'))
    expect(b.handle!.fd).toBeGreaterThan(-1)
    await b.release()
    await files.close()
    expect(b.handle!.fd).toBe(-1)
  })

  it('never closes a handle under its reader: a forget or close waits for the release', async () => {
    const files = new BlobFileHandles(4)
    const lease = await files.acquire('a', path('a'))
    await files.forget('a')
    expect(lease.handle!.fd).toBeGreaterThan(-1)
    const buf = new Uint8Array(1)
    await lease.handle!.read(buf, 0, 1, 0)
    expect(buf[0]).toBe('a'.charCodeAt(0))
    await lease.release()
    expect(lease.handle!.fd).toBe(-1)
    // Forgotten: the next reader opens the file again.
    const next = await files.acquire('a', path('a'))
    expect(next.handle).not.toBe(lease.handle)
    await next.release()
    await files.close()
  })

  it('a file deleted behind its back reads as missing, as a fresh open would find it, once the check is due', async () => {
    let clock = 0
    const files = new BlobFileHandles(4, { relinkCheckMs: 1_000, now: () => clock })
    const lease = await files.acquire('a', path('a'))
    await lease.release()
    await unlink(path('a'))
    // Within the check interval the kept handle is lent without a look at its link count (the bytes it reads are
    // re-hashed by the store all the same).
    clock = 999
    const soon = await files.acquire('a', path('a'))
    expect(soon.handle).toBe(lease.handle)
    await soon.release()
    clock = 1_000
    const after = await files.acquire('a', path('a'))
    expect(after.handle).toBeUndefined()
    expect(lease.handle!.fd).toBe(-1)
    await files.close()
  })

  it('looks at the link count at most once per interval while the file stays', async () => {
    let clock = 0
    const files = new BlobFileHandles(4, { relinkCheckMs: 1_000, now: () => clock })
    const first = await files.acquire('a', path('a'))
    await first.release()
    let stats = 0
    const stat = first.handle!.stat.bind(first.handle)
    first.handle!.stat = ((...args: Parameters<typeof stat>) => {
      stats++
      return stat(...args)
    }) as typeof stat
    for (clock = 0; clock < 3_000; clock += 100) await (await files.acquire('a', path('a'))).release()
    // Opened at 0, looked at again at 1,000 and 2,000: not on each of the thirty loans.
    expect(stats).toBe(2)
    await files.close()
  })
})
