import { describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { utf8 } from '../util/bytes.js'
import { type Database, openDatabase } from './database.js'
import { SCHEMA_VERSION_KEY, type Migration, migrate, readSchemaVersion } from './migrations.js'

async function withDb(fn: (db: Database) => Promise<void>): Promise<void> {
  const db = await openDatabase({ memory: true })
  try {
    await fn(db)
  } finally {
    await db.close()
  }
}

function recording(log: number[], n: number): Migration[] {
  return Array.from({ length: n }, (_, i) => ({
    version: i + 1,
    description: `step ${i + 1}`,
    up: async (db: Database) => {
      // Each migration sees the previous one's version already stored.
      expect(await readSchemaVersion(db)).toBe(i)
      log.push(i + 1)
      await db.put(`data-${i + 1}`, new Uint8Array([i + 1]))
    },
  }))
}

const rejectsWith = (code: string) => (e: unknown) => isHearthError(e) && e.code === code

describe('migrate', () => {
  it('runs every migration in order on a fresh database and records the version', async () => {
    await withDb(async (db) => {
      const log: number[] = []
      expect(await migrate(db, recording(log, 3))).toEqual({ from: 0, to: 3 })
      expect(log).toEqual([1, 2, 3])
      expect(await readSchemaVersion(db)).toBe(3)
      expect(await db.get(SCHEMA_VERSION_KEY)).toEqual(utf8('3'))
    })
  })

  it('is idempotent: a second run does nothing, a longer list runs only what is new', async () => {
    await withDb(async (db) => {
      const log: number[] = []
      await migrate(db, recording(log, 2))
      expect(await migrate(db, recording(log, 2))).toEqual({ from: 2, to: 2 })
      expect(log).toEqual([1, 2])
      expect(await migrate(db, recording(log, 4))).toEqual({ from: 2, to: 4 })
      expect(log).toEqual([1, 2, 3, 4])
    })
  })

  it('persists the version across reopen of an on-disk database', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = await mkdtemp(join(tmpdir(), 'hearth-migrate-'))
    try {
      const log: number[] = []
      const db = await openDatabase({ path: dir })
      await migrate(db, recording(log, 2))
      await db.close()
      const again = await openDatabase({ path: dir })
      expect(await migrate(again, recording(log, 3))).toEqual({ from: 2, to: 3 })
      await again.close()
      expect(log).toEqual([1, 2, 3])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a database written by a newer Hearth, without touching it', async () => {
    await withDb(async (db) => {
      await migrate(db, recording([], 3))
      const log: number[] = []
      const err: unknown = await migrate(db, recording(log, 2)).catch((e: unknown) => e)
      expect(isHearthError(err, 'CORRUPT_DATA')).toBe(true)
      expect((err as Error).message).toMatch(/written by a newer Hearth/)
      expect(log).toEqual([])
      expect(await readSchemaVersion(db)).toBe(3)
    })
  })

  it('rejects a list that is not numbered 1..n contiguously', async () => {
    await withDb(async (db) => {
      const up = async (): Promise<void> => {}
      const lists: Migration[][] = [
        [{ version: 2, description: 'starts at 2', up }],
        [
          { version: 1, description: 'a', up },
          { version: 3, description: 'gap', up },
        ],
        [
          { version: 2, description: 'b', up },
          { version: 1, description: 'out of order', up },
        ],
        [
          { version: 1, description: 'a', up },
          { version: 1, description: 'duplicate', up },
        ],
      ]
      for (const list of lists) await expect(migrate(db, list)).rejects.toSatisfy(rejectsWith('INVALID_INPUT'))
      expect(await db.get(SCHEMA_VERSION_KEY)).toBeUndefined()
    })
  })

  it('stops at a failing migration, keeping the last good version, and resumes from there', async () => {
    await withDb(async (db) => {
      let fail = true
      const log: number[] = []
      const list: Migration[] = [
        ...recording(log, 1),
        {
          version: 2,
          description: 'flaky',
          up: async () => {
            if (fail) throw new Error('disk on fire')
            log.push(2)
          },
        },
      ]
      const err: unknown = await migrate(db, list).catch((e: unknown) => e)
      expect(isHearthError(err, 'INTERNAL')).toBe(true)
      expect((err as Error).message).toContain('migration 2 (flaky) failed: disk on fire')
      expect(await readSchemaVersion(db)).toBe(1)
      fail = false
      expect(await migrate(db, list)).toEqual({ from: 1, to: 2 })
      expect(log).toEqual([1, 2])
    })
  })

  it('treats a garbled version as corrupt data', async () => {
    for (const stored of [utf8('two'), utf8('-1'), utf8('01'), utf8(''), new Uint8Array([0xff])]) {
      await withDb(async (db) => {
        await db.put(SCHEMA_VERSION_KEY, stored)
        await expect(migrate(db, [])).rejects.toSatisfy(rejectsWith('CORRUPT_DATA'))
      })
    }
  })
})
