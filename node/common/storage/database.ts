/**
 * A small, typed face over LevelDB (through `level` / `classic-level`), shared by the core and the relay.
 *
 * Keys are strings stored as UTF-8, values are bytes. Order is the byte order of the UTF-8 keys (LevelDB's default
 * comparator); the memory backend is configured to compare bytes too, so both sort the same way. Use `keyspace.ts` to
 * build keys whose byte order is the order you want.
 *
 * Durability: LevelDB hands writes to the OS and returns; only `sync: true` makes it fsync the write-ahead log before
 * the promise resolves. Anything the user is told has happened ("sent") must be written with `sync: true`. Batch what
 * arrives together and sync once: a synced batch of 100 costs about as much as one synced put.
 *
 * One process per database: LevelDB's LOCK file refuses a second opener, which surfaces as `STORAGE_LOCKED`.
 */
import { HearthError, isHearthError } from '../errors.js'

export interface WriteOptions {
  /** fsync before resolving. Required for anything acknowledged to a person or a peer. */
  sync?: boolean
}

export type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/** A key range; bounds compare as UTF-8 bytes. `limit` caps the number of entries yielded. */
export interface Range {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  reverse?: boolean
  limit?: number
}

export interface Database {
  /** The value under `key`, or `undefined` when there is none. */
  get(key: string): Promise<Uint8Array | undefined>
  /** Values in the order of `keys`, `undefined` where missing. */
  getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>>
  put(key: string, value: Uint8Array, opts?: WriteOptions): Promise<void>
  del(key: string, opts?: WriteOptions): Promise<void>
  /** Applies every operation or none. Operations are validated before anything is written. */
  batch(ops: readonly BatchOp[], opts?: WriteOptions): Promise<void>
  /** Entries in key order (or reverse), from an implicit snapshot taken when iteration starts. */
  iterate(range?: Range): AsyncIterable<[string, Uint8Array]>
  keys(range?: Range): AsyncIterable<string>
  /** Counts the keys in a range by walking them: O(n), for tests and stats, not hot paths. */
  count(range?: Range): Promise<number>
  /**
   * Makes the current state of each key (its newest value, or its absence) the only one left on disk. LevelDB keeps an
   * overwritten or deleted value in its write-ahead log and table files until a compaction happens to reach it; this
   * forces one, for forgetting on purpose (a message deleted for everyone), not for housekeeping. Nothing to do in
   * memory.
   */
  purge(keys: readonly string[]): Promise<void>
  /** Idempotent. Operations after close reject with `NOT_RUNNING`. */
  close(): Promise<void>
}

export type OpenDatabaseOptions = { path: string } | { memory: true }

interface BackendIterator<T> {
  next(): Promise<T | undefined>
  close(): Promise<void>
}

/**
 * The part of `abstract-level` this module uses, typed as it behaves at runtime: `level` 10's own typings declare
 * `get` as `Promise<V>`, but a missing key resolves to `undefined` (classic-level's typings say so).
 */
interface Backend {
  open(): Promise<void>
  close(): Promise<void>
  get(key: string): Promise<Uint8Array | undefined>
  getMany(keys: string[]): Promise<Array<Uint8Array | undefined>>
  put(key: string, value: Uint8Array, options: { sync: boolean }): Promise<void>
  del(key: string, options: { sync: boolean }): Promise<void>
  batch(ops: Array<BatchOp>, options: { sync: boolean }): Promise<void>
  iterator(options: LevelRange): BackendIterator<[string, Uint8Array]>
  keys(options: LevelRange): BackendIterator<string>
  /** classic-level has it; memory-level does not (nothing lingers in memory). */
  compactRange?(start: string, end: string): Promise<void>
}

interface LevelRange {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  reverse?: boolean
  limit?: number
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if ('path' in options) {
    if (typeof options.path !== 'string' || options.path === '') {
      throw new HearthError('INVALID_INPUT', 'database path must be a non-empty string')
    }
    const { Level } = await import('level')
    const level = new Level<string, Uint8Array>(options.path, { keyEncoding: 'utf8', valueEncoding: 'view' })
    return databaseFromLevel(level, { location: options.path, copyValues: false })
  }
  // memory-level is a dev dependency: loaded only when asked for, so a packaged app never needs it.
  const { MemoryLevel } = await import('memory-level')
  // storeEncoding 'buffer' (the default, spelled out) compares keys as bytes, the same order as LevelDB.
  const level = new MemoryLevel<string, Uint8Array>({
    keyEncoding: 'utf8',
    valueEncoding: 'view',
    storeEncoding: 'buffer',
  })
  // memory-level keeps the very buffer it was given and hands it back out, so a caller mutating its array after a put
  // (or mutating what get returned) would change the stored value. LevelDB copies; copy here to behave the same.
  return databaseFromLevel(level, { location: '(memory)', copyValues: true })
}

/**
 * Opens an already constructed `abstract-level` database and wraps it. Exported for tests that need to observe the
 * underlying instance (e.g. that `sync` reaches classic-level); application code uses `openDatabase`.
 */
export async function databaseFromLevel(
  level: Backend,
  options: { location: string; copyValues: boolean },
): Promise<Database> {
  const { location, copyValues } = options
  try {
    await level.open()
  } catch (err) {
    throw openError(err, location)
  }

  const outValue = (v: Uint8Array): Uint8Array =>
    // Both backends return Node Buffers even with valueEncoding 'view'; hand out plain Uint8Arrays so callers and
    // deep-equality checks see one type. A view over the same memory for LevelDB (it already copied), a copy for
    // memory-level (whose buffers are its store).
    copyValues ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
  const inValue = (v: Uint8Array): Uint8Array => (copyValues ? new Uint8Array(v) : v)
  const writeOptions = (opts: WriteOptions | undefined): { sync: boolean } => ({ sync: opts?.sync === true })

  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw operationError(err, what, location)
    }
  }

  /**
   * Walks a LevelDB iterator, turning its errors into ours and each item into what the caller yields; closing it (also
   * on an early break) releases the snapshot.
   */
  async function* walk<T, U>(open: () => BackendIterator<T>, what: string, map: (item: T) => U): AsyncGenerator<U> {
    let it: BackendIterator<T>
    try {
      it = open()
    } catch (err) {
      throw operationError(err, what, location)
    }
    try {
      while (true) {
        let item: T | undefined
        try {
          item = await it.next()
        } catch (err) {
          throw operationError(err, what, location)
        }
        if (item === undefined) return
        yield map(item)
      }
    } finally {
      await it.close()
    }
  }

  const entries = (range: Range | undefined) =>
    walk(() => level.iterator(iteratorOptions(range)), 'iterate', ([key, value]): [string, Uint8Array] => [key, outValue(value)])
  const keyStream = (range: Range | undefined) => walk(() => level.keys(iteratorOptions(range)), 'iterate keys', (key: string) => key)

  return {
    get: async (key) => {
      checkKey(key)
      return guard('get', async () => {
        const v = await level.get(key)
        return v === undefined ? undefined : outValue(v)
      })
    },
    getMany: async (keys) => {
      if (!Array.isArray(keys)) throw new HearthError('INVALID_INPUT', 'getMany expects an array of keys')
      keys.forEach(checkKey)
      return guard('getMany', async () => {
        const values = await level.getMany([...keys])
        return values.map((v) => (v === undefined ? undefined : outValue(v)))
      })
    },
    put: async (key, value, opts) => {
      checkKey(key)
      checkValue(value, key)
      return guard('put', () => level.put(key, inValue(value), writeOptions(opts)))
    },
    del: async (key, opts) => {
      checkKey(key)
      return guard('del', () => level.del(key, writeOptions(opts)))
    },
    batch: async (ops, opts) => {
      if (!Array.isArray(ops)) throw new HearthError('INVALID_INPUT', 'batch expects an array of operations')
      // Validate everything first: a bad operation must fail the whole batch before any of it is written.
      const checked = ops.map((op: BatchOp) => {
        if (op === null || typeof op !== 'object') throw new HearthError('INVALID_INPUT', 'batch operation is not an object')
        checkKey(op.key)
        if (op.type === 'put') {
          checkValue(op.value, op.key)
          return { type: 'put' as const, key: op.key, value: inValue(op.value) }
        }
        if (op.type === 'del') return { type: 'del' as const, key: op.key }
        throw new HearthError('INVALID_INPUT', `unknown batch operation type: ${String((op as { type: unknown }).type)}`)
      })
      if (checked.length === 0) return
      return guard('batch', () => level.batch(checked, writeOptions(opts)))
    },
    iterate: (range) => {
      checkRange(range)
      return entries(range)
    },
    keys: (range) => {
      checkRange(range)
      return keyStream(range)
    },
    count: async (range) => {
      checkRange(range)
      let n = 0
      for await (const _ of keyStream(range)) n++
      return n
    },
    purge: async (keys) => {
      keys.forEach(checkKey)
      const compactRange = level.compactRange?.bind(level)
      if (compactRange === undefined) return
      await guard('purge', async () => {
        for (const key of keys) {
          // The first pass flushes the memtable; but a flush writes every version it holds, so when the old value and
          // the new state were both still in memory, both land in one table at the bottom, which a range compaction
          // does not rewrite. Writing the current state again and compacting once more pushes it down onto that table,
          // and merging them keeps only the newest version (verified in database.test.ts).
          await compactRange(key, key)
          const now = await level.get(key)
          if (now === undefined) await level.del(key, { sync: true })
          else await level.put(key, now, { sync: true })
          await compactRange(key, key)
        }
      })
    },
    close: () => guard('close', () => level.close()),
  }
}

/** Copies only the bounds that are set, so no `undefined` bound or limit reaches the backend. */
function iteratorOptions(range: Range | undefined): LevelRange {
  const out: LevelRange = {}
  if (range === undefined) return out
  if (range.gt !== undefined) out.gt = range.gt
  if (range.gte !== undefined) out.gte = range.gte
  if (range.lt !== undefined) out.lt = range.lt
  if (range.lte !== undefined) out.lte = range.lte
  if (range.reverse !== undefined) out.reverse = range.reverse
  if (range.limit !== undefined) out.limit = range.limit
  return out
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new HearthError('INVALID_INPUT', `database key must be a string, got ${typeof key}`)
}

function checkValue(value: unknown, key: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new HearthError('INVALID_INPUT', `database value for ${JSON.stringify(key)} must be a Uint8Array`)
  }
}

function checkRange(range: Range | undefined): void {
  if (range === undefined) return
  if (range === null || typeof range !== 'object') throw new HearthError('INVALID_INPUT', 'range must be an object')
  for (const bound of ['gt', 'gte', 'lt', 'lte'] as const) {
    const v = range[bound]
    if (v !== undefined && typeof v !== 'string') throw new HearthError('INVALID_INPUT', `range.${bound} must be a string`)
  }
  if (range.gt !== undefined && range.gte !== undefined) throw new HearthError('INVALID_INPUT', 'range has both gt and gte')
  if (range.lt !== undefined && range.lte !== undefined) throw new HearthError('INVALID_INPUT', 'range has both lt and lte')
  if (range.limit !== undefined && !(Number.isSafeInteger(range.limit) && range.limit >= 0)) {
    throw new HearthError('INVALID_INPUT', 'range.limit must be a non-negative integer')
  }
}

function levelCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code
  return undefined
}

/** classic-level reports open failures as LEVEL_DATABASE_NOT_OPEN with the real reason in `cause`. */
function openError(err: unknown, location: string): HearthError {
  const cause = err instanceof Error ? err.cause : undefined
  const codes = [levelCode(err), levelCode(cause)]
  if (codes.includes('LEVEL_LOCKED')) {
    return new HearthError('STORAGE_LOCKED', `another Hearth process is using ${location}`, { cause: err })
  }
  if (codes.includes('LEVEL_CORRUPTION')) {
    return new HearthError('CORRUPT_DATA', `the database at ${location} is corrupt: ${describe(cause ?? err)}`, {
      cause: err,
    })
  }
  return new HearthError('INTERNAL', `could not open the database at ${location}: ${describe(cause ?? err)}`, {
    cause: err,
  })
}

function operationError(err: unknown, what: string, location: string): Error {
  if (isHearthError(err)) return err
  const code = levelCode(err)
  if (code === 'LEVEL_DATABASE_NOT_OPEN') {
    return new HearthError('NOT_RUNNING', `database ${what} after close (${location})`, { cause: err })
  }
  if (code === 'LEVEL_CORRUPTION') {
    return new HearthError('CORRUPT_DATA', `database ${what} found corruption in ${location}: ${describe(err)}`, {
      cause: err,
    })
  }
  return err instanceof Error ? err : new HearthError('INTERNAL', `database ${what} failed: ${describe(err)}`)
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
