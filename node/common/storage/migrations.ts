/**
 * Versioned, append-only schema migrations (after Signal-Desktop's numbered migrations).
 *
 * - Migrations are numbered 1..n with no gaps and never edited or removed once released: a new schema change is a new
 *   migration appended to the list.
 * - The schema version lives under SCHEMA_VERSION_KEY as ASCII decimal. A missing key means version 0 (empty or
 *   pre-migration database).
 * - After each migration the version is bumped with a synced write. If the process dies between a migration's writes
 *   and its bump, that migration runs again on the next start: write `up` to be idempotent, or do its work in a
 *   single batch.
 * - A database whose version is newer than the code refuses to open: an older Hearth must not write into a schema it
 *   does not understand.
 */
import { HearthError, isHearthError } from '../errors.js'
import { fromUtf8, utf8 } from '../util/bytes.js'
import type { Database } from './database.js'
import { key } from './keyspace.js'

export interface Migration {
  /** 1-based, contiguous. */
  version: number
  /** One line saying what changes, for logs and error messages. */
  description: string
  up(db: Database): Promise<void>
}

export const SCHEMA_VERSION_KEY = key('meta', 'schema-version')

/** Reads the stored schema version (0 when none is stored). */
export async function readSchemaVersion(db: Database): Promise<number> {
  const stored = await db.get(SCHEMA_VERSION_KEY)
  if (stored === undefined) return 0
  let text: string
  try {
    text = fromUtf8(stored)
  } catch (err) {
    throw new HearthError('CORRUPT_DATA', 'the stored schema version is not text', { cause: err })
  }
  if (!/^(0|[1-9][0-9]{0,14})$/.test(text)) {
    throw new HearthError('CORRUPT_DATA', `the stored schema version is not a number: ${JSON.stringify(text)}`)
  }
  return Number(text)
}

function validateMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new HearthError(
        'INVALID_INPUT',
        `migrations must be numbered 1..n in order: position ${i + 1} holds version ${String(m.version)}`,
      )
    }
    if (typeof m.up !== 'function') throw new HearthError('INVALID_INPUT', `migration ${m.version} has no up()`)
  })
}

/** Brings the database to the latest schema. Returns the version found and the version reached. */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<{ from: number; to: number }> {
  validateMigrations(migrations)
  const latest = migrations.length
  const from = await readSchemaVersion(db)
  if (from > latest) {
    throw new HearthError(
      'CORRUPT_DATA',
      `this data was written by a newer Hearth (schema version ${from}; this version knows up to ${latest}). ` +
        'Update Hearth to open it.',
    )
  }
  for (const m of migrations.slice(from)) {
    try {
      await m.up(db)
    } catch (err) {
      if (isHearthError(err)) throw err
      throw new HearthError('INTERNAL', `migration ${m.version} (${m.description}) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    await db.put(SCHEMA_VERSION_KEY, utf8(String(m.version)), { sync: true })
  }
  return { from, to: latest }
}
