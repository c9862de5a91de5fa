/**
 * A reader of Automerge's binary change format (chunk type 1) that extracts only what the authorship rule needs: the
 * change's actor, and for every op its action, the object it writes into and, when it names one, its map key. It is
 * the authorship rule's only guard (authorship.ts), so it is written to refuse anything it does not fully understand:
 * whenever it accepts a change, the ops it reports are exactly the ops Automerge applies from those bytes.
 *
 * Why not `Automerge.decodeChange`: that builds every op with its value as JavaScript objects (a sealed body is copied
 * out of WebAssembly as an array of numbers), which cost more than applying the change on the receive path.
 *
 * The format, and how Automerge 3 reads it (rust/automerge/src/storage/change.rs, change_op_columns.rs,
 * columnar/encoding/rle.rs, column_range/{obj_id,key}.rs):
 *  - chunk: magic 85 6f 4a 83, 4 checksum bytes, type byte (1 = change), uLEB length, then exactly that many bytes
 *    (Automerge refuses bytes left over after the chunk);
 *  - change: deps (uLEB count, 32 bytes each), actor (uLEB length + bytes), seq (uLEB), startOp (uLEB, not 0), time
 *    (sLEB), message (uLEB length + UTF-8), other actors (uLEB count, each uLEB length + bytes), column metadata (uLEB
 *    count, then uLEB spec and uLEB length per column), the columns' data back to back, and extra bytes;
 *  - a column spec is `id << 4 | deflate << 3 | type`; the op count is the action column's value count; every other
 *    column yields null once exhausted, and Automerge reads an op's object as the root when both object columns are
 *    null, and its key as a map key when only the key string column has a value.
 *
 * Stricter than Automerge on purpose (each refusal names what): compressed chunks and deflated columns, columns out of
 * strictly ascending order, columns Automerge 3 does not write, zero-length null runs, null actions, values past 2^53,
 * object counters of 0 or past 2^32 - 1 (Automerge reads a 0 counter as the root and panics past u32), and a column
 * holding more values than the change has ops, and tables (applying a makeTable op panics inside Automerge 3.5).
 * Honest Automerge 3 changes never contain any of them.
 */

export class ChangeFormatError extends Error {
  override readonly name = 'ChangeFormatError'
}

/** Automerge's op actions, by their number in the action column. */
export const ACTIONS = ['makeMap', 'set', 'makeList', 'del', 'makeText', 'inc', 'makeTable', 'mark'] as const
export type ActionName = (typeof ACTIONS)[number]

export interface ChangeOp {
  action: ActionName
  /** null for the root; otherwise the object's id: its creating op's counter and the index of its actor in `actors`. */
  obj: { counter: number; actor: number } | null
  /** The map key's bytes (UTF-8), or null when the op addresses a list element. Compared as bytes, never decoded. */
  key: Uint8Array | null
}

export interface ChangeOps {
  /** The change's actor, lowercase hex. */
  actor: string
  /** The change's actor table: `actors[0]` is `actor`, then the other actors it names, lowercase hex. */
  actors: string[]
  ops: ChangeOp[]
}

/** More ops than any change Hearth writes (a message with every attachment and mention has a few hundred). */
export const MAX_CHANGE_OPS = 65_536

const MAGIC = [0x85, 0x6f, 0x4a, 0x83]
const CHUNK_CHANGE = 1
const MAX_COUNTER = 0xffff_ffff

/** Column specs Automerge 3 writes in a change, in the order it writes them (ascending). */
const COL = {
  objActor: 1,
  objCounter: 2,
  keyActor: 17,
  keyCounter: 19,
  keyString: 21,
  insert: 52,
  action: 66,
  valueMeta: 86,
  valueRaw: 87,
  predGroup: 112,
  predActor: 113,
  predCounter: 115,
  expand: 148,
  markName: 165,
} as const
const KNOWN_COLUMNS: ReadonlySet<number> = new Set(Object.values(COL))

function fail(what: string): never {
  throw new ChangeFormatError(what)
}

class Reader {
  pos: number
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  byte(): number {
    if (this.pos >= this.end) fail('truncated')
    return this.bytes[this.pos++]!
  }

  /** Unsigned LEB128 up to 2^53 - 1; longer or larger encodings are refused. */
  uleb(): number {
    let result = 0
    let scale = 1
    for (let i = 0; ; i++) {
      const b = this.byte()
      result += (b & 0x7f) * scale
      if ((b & 0x80) === 0) break
      scale *= 128
      if (i >= 7) fail('LEB128 value too large')
    }
    if (!Number.isSafeInteger(result)) fail('LEB128 value too large')
    return result
  }

  /** Signed LEB128 within ±(2^53 - 1). */
  sleb(): number {
    let result = 0
    let scale = 1
    let b: number
    for (let i = 0; ; i++) {
      b = this.byte()
      result += (b & 0x7f) * scale
      scale *= 128
      if ((b & 0x80) === 0) break
      if (i >= 7) fail('LEB128 value too large')
    }
    if ((b & 0x40) !== 0) result -= scale
    if (!Number.isSafeInteger(result)) fail('LEB128 value too large')
    return result
  }

  take(n: number): { start: number; end: number } {
    if (n > this.end - this.pos) fail('truncated')
    const start = this.pos
    this.pos += n
    return { start, end: this.pos }
  }
}

/** Delta-encoded values to the absolute values Automerge's DeltaDecoder yields (a null leaves the running sum). */
function absolute(deltas: Array<number | null>): Array<number | null> {
  let sum = 0
  return deltas.map((d) => {
    if (d === null) return null
    sum += d
    if (!Number.isSafeInteger(sum)) fail('value too large')
    return sum
  })
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

function hex(bytes: Uint8Array, start: number, end: number): string {
  let out = ''
  for (let i = start; i < end; i++) out += HEX[bytes[i]!]!
  return out
}

/**
 * Decodes one RLE column into at most `limit` values (null for a null), exactly as Automerge's RleDecoder yields
 * them: a positive count is a run of one value, a negative count a literal run, 0 a run of nulls of the uLEB count
 * that follows. `value` reads one value at the reader's position. A column with more values than `limit` is refused.
 */
function rle<T>(r: Reader, limit: number, value: (r: Reader) => T): Array<T | null> {
  const out: Array<T | null> = []
  while (!r.done) {
    const count = r.sleb()
    if (count > 0) {
      if (count > limit - out.length) fail('column holds more values than the change has ops')
      const v = value(r)
      for (let i = 0; i < count; i++) out.push(v)
    } else if (count < 0) {
      if (-count > limit - out.length) fail('column holds more values than the change has ops')
      for (let i = 0; i < -count; i++) out.push(value(r))
    } else {
      const nulls = r.uleb()
      if (nulls === 0) fail('null run of length 0')
      if (nulls > limit - out.length) fail('column holds more values than the change has ops')
      for (let i = 0; i < nulls; i++) out.push(null)
    }
  }
  return out
}

/** Reads the change's actor, actor table and ops; throws ChangeFormatError for anything it does not accept. */
export function readChangeOps(bytes: Uint8Array): ChangeOps {
  if (!(bytes instanceof Uint8Array)) fail('not bytes')
  const head = new Reader(bytes, 0, bytes.length)
  for (const m of MAGIC) if (head.byte() !== m) fail('not an Automerge chunk')
  head.take(4) // checksum: Automerge does not check it when applying, and nothing below depends on it
  const type = head.byte()
  if (type !== CHUNK_CHANGE) fail(type === 2 ? 'compressed change chunks are not accepted' : 'not a change chunk')
  const length = head.uleb()
  if (length !== bytes.length - head.pos) fail('chunk length does not match the bytes')
  const r = new Reader(bytes, head.pos, bytes.length)

  const deps = r.uleb()
  r.take(deps > bytes.length ? fail('truncated') : deps * 32)
  const actorLen = r.uleb()
  const actorAt = r.take(actorLen)
  const actors = [hex(bytes, actorAt.start, actorAt.end)]
  r.uleb() // seq
  const startOp = r.uleb()
  if (startOp === 0) fail('start op is 0')
  r.sleb() // time
  r.take(r.uleb()) // message: not read
  const others = r.uleb()
  if (others > bytes.length) fail('truncated')
  for (let i = 0; i < others; i++) {
    const at = r.take(r.uleb())
    actors.push(hex(bytes, at.start, at.end))
  }

  const columnCount = r.uleb()
  if (columnCount > KNOWN_COLUMNS.size) fail('unknown column')
  const specs: Array<{ spec: number; length: number }> = []
  let previous = -1
  for (let i = 0; i < columnCount; i++) {
    const spec = r.uleb()
    const len = r.uleb()
    if (!KNOWN_COLUMNS.has(spec)) fail(spec & 0b1000 ? 'deflated column' : 'unknown column')
    if (spec <= previous) fail('columns out of order')
    previous = spec
    specs.push({ spec, length: len })
  }
  const ranges = new Map<number, { start: number; end: number }>()
  for (const { spec, length: len } of specs) ranges.set(spec, r.take(len))
  // Whatever follows the columns is the change's extra bytes, which Automerge keeps and does not interpret.

  const column = (spec: number): Reader => {
    const at = ranges.get(spec)
    return new Reader(bytes, at?.start ?? 0, at?.end ?? 0)
  }
  const uleb = (x: Reader): number => x.uleb()
  const sleb = (x: Reader): number => x.sleb()
  const str = (x: Reader): Uint8Array => {
    const at = x.take(x.uleb())
    return bytes.subarray(at.start, at.end)
  }

  const actions = rle(column(COL.action), MAX_CHANGE_OPS, uleb)
  const n = actions.length
  if (n > 0 && startOp + n - 1 > MAX_COUNTER) fail('op counter out of range')
  const objActor = rle(column(COL.objActor), n, uleb)
  const objCounter = rle(column(COL.objCounter), n, uleb)
  const keyActor = rle(column(COL.keyActor), n, uleb)
  const keyCounter = absolute(rle(column(COL.keyCounter), n, sleb))
  const keyString = rle(column(COL.keyString), n, str)
  const predCount = rle(column(COL.predGroup), n, uleb)
  let preds = 0
  for (const p of predCount) preds += p ?? 0
  if (preds > MAX_CHANGE_OPS) fail('too many predecessors')
  const predActor = rle(column(COL.predActor), preds, uleb)
  const predCounter = absolute(rle(column(COL.predCounter), preds, sleb))

  const opId = (a: number | null, c: number | null, what: string): void => {
    // Automerge reads these as (u32 counter, u32 actor) and panics past that; an actor outside the table is refused.
    if (a === null || c === null) fail(`${what} with a null part`)
    if (c < 0 || c > MAX_COUNTER) fail(`${what} counter out of range`)
    if (a >= actors.length) fail(`${what} actor outside the actor table`)
  }
  const ops: ChangeOp[] = []
  let pred = 0
  for (let i = 0; i < n; i++) {
    const code = actions[i]
    if (code === null || code === undefined) fail('null action')
    const action = ACTIONS[code]
    if (action === undefined) fail('unknown action')
    // Automerge 3 never writes a table, and applying a change that makes one panics inside it (measured on 3.5.0).
    if (action === 'makeTable') fail('table ops are not accepted')
    const a = objActor[i] ?? null
    const c = objCounter[i] ?? null
    let obj: ChangeOp['obj'] = null
    if (a !== null || c !== null) {
      opId(a, c, 'object')
      // A counter of 0 is the root to Automerge, whatever the actor: refused rather than read as either.
      if (c === 0) fail('object counter out of range')
      obj = { counter: c!, actor: a! }
    }
    const k = keyString[i] ?? null
    const ka = keyActor[i] ?? null
    const kc = keyCounter[i] ?? null
    if (k !== null && (ka !== null || kc !== null)) fail('key is both a map key and a list element')
    if (k === null && kc === null) fail('op without a key')
    if (k === null && !(ka === null && kc === 0)) opId(ka, kc, 'element')
    const count = predCount[i] ?? null
    if (count === null) fail('null predecessor count')
    for (let j = 0; j < count; j++, pred++) opId(predActor[pred] ?? null, predCounter[pred] ?? null, 'predecessor')
    ops.push({ action, obj, key: k })
  }
  return { actor: actors[0]!, actors, ops }
}
