import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { isHearthError } from '../errors.js'
import { runDatabaseContractTests } from './database-contract.js'
import { type Database, databaseFromLevel, openDatabase } from './database.js'

let root: string

/** Whether any file of the database directory holds these bytes. */
async function filesContain(dir: string, needle: Uint8Array): Promise<boolean> {
  for (const name of await readdir(dir)) {
    if ((await readFile(join(dir, name))).includes(Buffer.from(needle))) return true
  }
  return false
}
let counter = 0
const freshPath = (): string => join(root, `db-${++counter}`)

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-storage-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

runDatabaseContractTests('LevelDB on disk', () => openDatabase({ path: freshPath() }))
runDatabaseContractTests('memory', () => openDatabase({ memory: true }))

describe('on-disk database', () => {
  const toClose: Database[] = []
  afterEach(async () => {
    for (const db of toClose.splice(0)) await db.close()
  })

  it('keeps data across close and reopen', async () => {
    const path = freshPath()
    const db = await openDatabase({ path })
    await db.batch([
      { type: 'put', key: 'alice', value: new Uint8Array([1, 0, 255]) },
      { type: 'put', key: 'bob', value: new Uint8Array(0) },
    ])
    await db.put('charlie', new Uint8Array([3]), { sync: true })
    await db.del('bob')
    await db.close()

    const again = await openDatabase({ path })
    toClose.push(again)
    expect(await again.get('alice')).toEqual(new Uint8Array([1, 0, 255]))
    expect(await again.get('bob')).toBeUndefined()
    expect(await again.get('charlie')).toEqual(new Uint8Array([3]))
  })

  it('refuses a second opener in this process with STORAGE_LOCKED naming the path', async () => {
    const path = freshPath()
    toClose.push(await openDatabase({ path }))
    const err: unknown = await openDatabase({ path }).catch((e: unknown) => e)
    expect(isHearthError(err, 'STORAGE_LOCKED')).toBe(true)
    expect((err as Error).message).toBe(`another Hearth process is using ${path}`)
  })

  it('refuses to open a database another process holds with STORAGE_LOCKED', async () => {
    const path = freshPath()
    // The child opens the database, says "ready", and holds it until its stdin closes.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { Level } from 'level'
         const db = new Level(${JSON.stringify(path)})
         await db.open()
         process.stdout.write('ready\\n')
         process.stdin.resume()
         process.stdin.on('end', async () => { await db.close(); process.exit(0) })`,
      ],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    )
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve()
        })
        child.on('exit', (code) => reject(new Error(`holder exited early (${String(code)})`)))
      })
      const err: unknown = await openDatabase({ path }).catch((e: unknown) => e)
      expect(isHearthError(err, 'STORAGE_LOCKED')).toBe(true)
      expect((err as Error).message).toContain(path)
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.stdin.end()
      await exited
    }
    // Released by the other process: now it opens.
    toClose.push(await openDatabase({ path }))
  })

  it('passes sync: true through to classic-level for put, del and batch, and false otherwise', async () => {
    const level = new Level<string, Uint8Array>(freshPath(), { keyEncoding: 'utf8', valueEncoding: 'view' })
    // `_put`/`_del`/`_batch` are what classic-level forwards, options included, to LevelDB's WriteOptions.
    const internals = level as unknown as Record<'_put' | '_del' | '_batch', (...args: unknown[]) => Promise<void>>
    const put = vi.spyOn(internals, '_put')
    const del = vi.spyOn(internals, '_del')
    const batch = vi.spyOn(internals, '_batch')
    const db = await databaseFromLevel(level, { location: 'spy', copyValues: false })
    toClose.push(db)

    await db.put('a', new Uint8Array([1]), { sync: true })
    await db.put('b', new Uint8Array([1]))
    await db.del('a', { sync: true })
    await db.del('b')
    await db.batch([{ type: 'put', key: 'c', value: new Uint8Array([1]) }], { sync: true })
    await db.batch([{ type: 'del', key: 'c' }])

    expect(put.mock.calls.map((c) => (c[2] as { sync?: boolean }).sync)).toEqual([true, false])
    expect(del.mock.calls.map((c) => (c[1] as { sync?: boolean }).sync)).toEqual([true, false])
    expect(batch.mock.calls.map((c) => (c[1] as { sync?: boolean }).sync)).toEqual([true, false])
  })

  for (const inTables of [false, true]) {
    it(`purge leaves no trace on disk of deleted and overwritten values (old values ${inTables ? 'already in tables' : 'still in memory'})`, async () => {
      const path = freshPath()
      const db = await openDatabase({ path })
      toClose.push(db)
      const [gone, replaced, kept] = [randomBytes(48), randomBytes(48), randomBytes(48)]
      for (let i = 0; i < 50; i++) await db.put(`ck/0${i}`, randomBytes(200))
      await db.put('ck/a', gone, { sync: true })
      await db.put('env/b', replaced, { sync: true })
      for (let i = 0; i < 50; i++) await db.put(`env/${i}`, randomBytes(200))
      // Push everything written so far into table files, as time does for a message sent long ago.
      if (inTables) await db.purge(['env/0'])
      await db.del('ck/a', { sync: true })
      await db.put('env/b', kept, { sync: true })
      expect(await filesContain(path, gone)).toBe(true)
      expect(await filesContain(path, replaced)).toBe(true)

      await db.purge(['ck/a', 'env/b'])
      expect(await filesContain(path, gone)).toBe(false)
      expect(await filesContain(path, replaced)).toBe(false)
      expect(await db.get('ck/a')).toBeUndefined()
      expect(await db.get('env/b')).toEqual(new Uint8Array(kept))
      expect(await db.count({ gte: 'ck/0', lt: 'ck/1' })).toBe(50)
    })
  }

  it('rejects an empty path', async () => {
    await expect(openDatabase({ path: '' })).rejects.toSatisfy((e) => isHearthError(e, 'INVALID_INPUT'))
  })
})
