/**
 * Shared pieces of the decoder fuzzers: run counts and the seed, byte-level and CBOR-structure-aware mutations of valid
 * encodings, and the outcome check every decoder must pass (a value, or a typed refusal counted by code).
 *
 * Mutations are plain data (an index, a mask, a replacement value) rather than closures, so fast-check can shrink a
 * failing input and print it readably, and a seed replays it exactly.
 */
import fc from 'fast-check'
import { afterEach } from 'vitest'
import { CrdtError } from '../../crdt/src/errors.js'
import { HearthError } from '../../node/common/errors.js'
import { concatByteList } from '../../node/common/util/bytes.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import { decode as cborDecode } from 'cborg'

/** Inputs per decoder: `HEARTH_FUZZ_RUNS` (npm run fuzz) or the short default that keeps `npm test` quick. */
export function runs(short: number): number {
  const long = Number(process.env.HEARTH_FUZZ_RUNS ?? '')
  return Number.isSafeInteger(long) && long > 0 ? long : short
}

export const LONG_RUN = runs(0) > 0

/** Inputs per decoder in the short run inside `npm test`: enough to catch a regression, small enough for CI. */
export const SHORT_RUNS = 300

/** One seed for every fuzzer; `HEARTH_FUZZ_SEED` replays another run. Printed with each failure by fast-check. */
export const SEED = (() => {
  const text = process.env.HEARTH_FUZZ_SEED
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : 0x4ea57
})()

/**
 * Longest one input may take. A decoder that needs more is doing work out of proportion to its input (or hangs):
 * generous, because two shared cores under a full test run stall for hundreds of milliseconds at times.
 */
export const MAX_INPUT_MS = 2_000

/** What one decoder did over a run: values returned, refusals by error code, the slowest input. */
/**
 * Makes tallies that print their summary after each test, so a long run that is stopped early still reports what it
 * finished. Call once per test file.
 */
export function talliesReportedAfterEach(): (name: string) => Tally {
  const tallies: Tally[] = []
  afterEach(() => {
    for (const t of tallies.splice(0)) console.log(t.summary())
  })
  return (name) => {
    const t = new Tally(name)
    tallies.push(t)
    return t
  }
}

export class Tally {
  readonly name: string
  values = 0
  readonly refusals = new Map<string, number>()
  inputs = 0
  slowestMs = 0
  /** Inputs over MAX_INPUT_MS (only possible where a target allows more, see `outcome`). */
  slow = 0
  /** Time spent inside the decoder (the rest of a run is generating inputs). */
  decodeMs = 0
  readonly started = performance.now()
  ended = performance.now()

  constructor(name: string) {
    this.name = name
  }

  refused(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1)
  }

  summary(): string {
    const codes = [...this.refusals.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`)
    const seconds = ((this.ended - this.started) / 1000).toFixed(1)
    return (
      `fuzz ${this.name}: ${this.inputs} inputs in ${seconds} s (seed ${SEED}), ${this.values} decoded, ` +
      `refused: ${codes.length === 0 ? 'none' : codes.join(', ')}; ${(this.decodeMs / 1000).toFixed(1)} s decoding, ` +
      `slowest input ${this.slowestMs.toFixed(1)} ms${this.slow > 0 ? `, ${this.slow} over ${MAX_INPUT_MS} ms` : ''}`
    )
  }
}

/** The error classes decoders may throw: HearthError (node/, relay/) and CrdtError (crdt/, same code strings). */
function typedCode(err: unknown): string | undefined {
  if (err instanceof HearthError) return err.code
  if (err instanceof CrdtError) return err.code
  return undefined
}

/**
 * Runs one decoder on one input. A returned value goes to `check` (which throws if it breaks the decoder's contract);
 * a typed error is counted; anything else (TypeError, RangeError, a stack overflow) or an input slower than
 * MAX_INPUT_MS fails the property with a description fast-check prints next to the seed.
 */
export function outcome<T>(tally: Tally, decode: () => T, check: (value: T) => void = () => {}, maxMs = MAX_INPUT_MS): T | undefined {
  tally.inputs++
  const start = performance.now()
  let value: T
  try {
    value = decode()
  } catch (err) {
    const code = typedCode(err)
    if (code === undefined) {
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      throw new Error(`${tally.name}: untyped exception ${what}`, { cause: err })
    }
    tally.refused(code)
    timed(tally, start, maxMs)
    return undefined
  }
  timed(tally, start, maxMs)
  tally.values++
  check(value)
  return value
}

function timed(tally: Tally, start: number, maxMs: number): void {
  tally.ended = performance.now()
  const ms = tally.ended - start
  tally.decodeMs += ms
  if (ms > tally.slowestMs) tally.slowestMs = ms
  if (ms > MAX_INPUT_MS) tally.slow++
  if (ms > maxMs) throw new Error(`${tally.name}: one input took ${ms.toFixed(0)} ms (over ${maxMs} ms)`)
}

/**
 * A value with every -0 made 0. Schemas take a float -0 where they want a non-negative integer (it is one, to
 * JavaScript), and it re-encodes as 0: the same value, which toEqual would call different.
 */
export function withoutNegativeZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0
  if (v instanceof Uint8Array) return v
  if (Array.isArray(v)) return v.map(withoutNegativeZero)
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutNegativeZero(x)]))
  return v
}

/** fc.assert with the shared seed and a run count; the failure message carries seed, path and counterexample. */
export function fuzz<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns: number): void {
  fc.assert(property, { seed: SEED, numRuns })
}

export async function fuzzAsync<Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void> {
  await fc.assert(property, { seed: SEED, numRuns })
}

// ----------------------------------------------------------------------------------------------- byte mutations

/**
 * Byte sequences that tend to break length handling when spliced into an encoding: varint and CBOR headers claiming
 * 2^32 or 2^64 bytes/items, indefinite-length starts and breaks, undefined, tags, and the usual boundary bytes.
 */
const INTERESTING: readonly Uint8Array[] = [
  [0x00],
  [0xff],
  [0x7f],
  [0x80],
  [0xff, 0xff, 0xff, 0xff, 0x0f], // varint 2^32 - 1
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // varint 2^64 - 1
  [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // bytes of 2^64 - 1
  [0x5a, 0xff, 0xff, 0xff, 0xff], // bytes of 2^32 - 1
  [0x7a, 0x7f, 0xff, 0xff, 0xff], // text of 2^31 - 1
  [0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00], // array of 2^32 items
  [0x9a, 0xff, 0xff, 0xff, 0xff], // array of 2^32 - 1 items
  [0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // map of 2^64 - 1 pairs
  [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // uint 2^64 - 1
  [0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // negint -2^64
  [0x5f], // indefinite bytes
  [0x9f], // indefinite array
  [0xbf], // indefinite map
  [0xf7], // undefined
  [0xf9, 0x7e, 0x00], // half-float NaN
  [0xfb, 0x7f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // +Infinity
  [0xc2, 0x49, 0x01, 0, 0, 0, 0, 0, 0, 0, 0], // bignum tag
  [0xd8, 0x2a], // tag 42 (CID)
  [0xd9, 0xd9, 0xf7], // self-describe tag
  [0x1c], // reserved additional info
  [0xfc], // reserved simple
].map((b) => Uint8Array.from(b))

export type ByteMutation =
  | { t: 'flip'; at: number; mask: number }
  | { t: 'set'; at: number; value: number }
  | { t: 'truncate'; at: number }
  | { t: 'extend'; bytes: Uint8Array }
  | { t: 'insert'; at: number; bytes: Uint8Array }
  | { t: 'delete'; at: number; count: number }
  | { t: 'overwrite'; at: number; bytes: Uint8Array }
  | { t: 'interesting'; at: number; which: number; replace: boolean }
  | { t: 'splice'; at: number; other: number; from: number }
  | { t: 'repeat'; at: number; count: number; times: number }

const position = fc.nat({ max: 1 << 20 })
const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 24 })

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('flip' as const), at: position, mask: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('extend' as const), bytes: smallBytes }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('insert' as const), at: position, bytes: smallBytes }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('overwrite' as const), at: position, bytes: smallBytes }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('interesting' as const),
      at: position,
      which: fc.nat({ max: INTERESTING.length - 1 }),
      replace: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('splice' as const), at: position, other: fc.nat(), from: position }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('repeat' as const),
      at: position,
      count: fc.integer({ min: 1, max: 8 }),
      times: fc.integer({ min: 2, max: 64 }),
    }),
  },
)

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatByteList(parts)
}

/** Applies one mutation; positions wrap around the current length so every mutation lands somewhere. */
export function mutateBytes(input: Uint8Array, m: ByteMutation, pool: readonly Uint8Array[]): Uint8Array {
  const n = input.length
  const at = (i: number, slack = 0): number => (n + slack === 0 ? 0 : i % (n + slack))
  switch (m.t) {
    case 'flip': {
      if (n === 0) return input
      const out = Uint8Array.from(input)
      out[at(m.at)]! ^= m.mask
      return out
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(m.value)
      const out = Uint8Array.from(input)
      out[at(m.at)] = m.value
      return out
    }
    case 'truncate':
      return input.slice(0, at(m.at))
    case 'extend':
      return concat(input, m.bytes)
    case 'insert': {
      const i = at(m.at, 1)
      return concat(input.subarray(0, i), m.bytes, input.subarray(i))
    }
    case 'delete': {
      const i = at(m.at)
      return concat(input.subarray(0, i), input.subarray(i + m.count))
    }
    case 'overwrite': {
      const i = at(m.at)
      const out = Uint8Array.from(input)
      out.set(m.bytes.subarray(0, Math.max(0, n - i)), i)
      return out
    }
    case 'interesting': {
      const i = at(m.at, 1)
      const bytes = INTERESTING[m.which]!
      return concat(input.subarray(0, i), bytes, input.subarray(m.replace ? i + bytes.length : i))
    }
    case 'splice': {
      const other = pool[m.other % pool.length]!
      return concat(input.subarray(0, at(m.at, 1)), other.subarray(other.length === 0 ? 0 : m.from % other.length))
    }
    case 'repeat': {
      const i = at(m.at)
      const chunk = input.subarray(i, i + m.count)
      return concat(input.subarray(0, i), ...Array.from({ length: m.times }, () => chunk), input.subarray(i + m.count))
    }
  }
}

/** A valid encoding from `seeds` with 1..6 byte mutations stacked on it. */
export function mutatedBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(byteMutation, { minLength: 1, maxLength: 6 }))
    .map(([i, ms]) => ms.reduce((b, m) => mutateBytes(b, m, seeds), seeds[i]!))
}

// ------------------------------------------------------------------------------------------ CBOR value mutations

/** CBOR values of every major type, including the ones Hearth never sends (floats, huge and negative ints, bigints). */
export const cborValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.nat({ max: 300 }),
    fc.constantFrom(0, 1, -1, 255, 256, 65_535, 2 ** 32, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1.5, -0, NaN, Infinity, -Infinity),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.double(),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.constantFrom('', 'v', '__proto__', 'constructor', 'deposit', 'fetch', 'ack', 'page', 'refused', 'receipt', 'done', 'env'),
    fc.stringMatching(/^[0-9a-f]{16}$|^[0-9a-f]{32}$|^[0-9a-f]{64}$/),
    fc.string({ minLength: 60, maxLength: 70 }),
    fc.uint8Array({ maxLength: 70 }),
    fc.constantFrom(16, 24, 32, 64, 65).map((n) => new Uint8Array(n).fill(7)),
  ),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('map')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  map: fc.dictionary(fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('v', 'k', 'o', 's', 'e', 'd', 't')), tie('node'), {
    maxKeys: 5,
  }),
})).node

export type TreeMutation =
  | { t: 'replace'; node: number; value: unknown }
  | { t: 'drop'; node: number }
  | { t: 'add'; node: number; key: string; value: unknown }
  | { t: 'swap'; a: number; b: number }
  | { t: 'nest'; node: number; depth: number; map: boolean }
  | { t: 'grow'; node: number; times: number }

export const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('replace' as const), node: fc.nat(), value: cborValue }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('drop' as const), node: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('add' as const),
      node: fc.nat(),
      key: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('v', 'x', 'k', 'o', 'e', 'i', 'b')),
      value: cborValue,
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('nest' as const),
      node: fc.nat(),
      // Shallow here (the tree code recurses); `deeplyNested` builds the deep cases as bytes.
      depth: fc.integer({ min: 1, max: 64 }),
      map: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('grow' as const),
      node: fc.nat(),
      // Mostly a few copies; sometimes just past the caps (256 envelopes, 1,000 items, 4,096 ops).
      times: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 2, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 200, max: 5_000 }) }),
    }),
  },
)

/** A position in a decoded CBOR tree: the container holding it and its key there. */
interface Slot {
  holder: Record<string | number, unknown>
  key: string | number
}

const getSlot = (s: Slot): unknown => s.holder[s.key]
const setSlot = (s: Slot, v: unknown): void => {
  s.holder[s.key] = v
}
const removeSlot = (s: Slot): void => {
  if (Array.isArray(s.holder)) s.holder.splice(s.key as number, 1)
  else delete s.holder[s.key]
}

/** Every position in a decoded CBOR tree (the root included), depth first. */
function slots(root: { v: unknown }): Slot[] {
  const out: Slot[] = []
  const stack: Slot[] = [{ holder: root as unknown as Record<string, unknown>, key: 'v' }]
  while (stack.length > 0) {
    const slot = stack.pop()!
    out.push(slot)
    const value = getSlot(slot)
    if (Array.isArray(value)) for (let i = value.length - 1; i >= 0; i--) stack.push({ holder: value as unknown as Record<number, unknown>, key: i })
    else if (isMap(value)) for (const k of Object.keys(value).reverse()) stack.push({ holder: value, key: k })
  }
  return out
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

/** Decodes leniently (any valid CBOR, big ints as bigint) so a seed's structure can be mutated. */
export function cborTree(bytes: Uint8Array): unknown {
  return cborDecode(bytes, { useMaps: false })
}

/** A rough encoded size, to keep grown inputs near the decoders' caps rather than megabytes past them. */
function byteSize(v: unknown): number {
  if (v instanceof Uint8Array || typeof v === 'string') return v.length + 1
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + byteSize(x), 1)
  if (isMap(v)) return Object.entries(v).reduce((n: number, [k, x]) => n + k.length + byteSize(x), 1)
  return 9
}

function countNodes(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countNodes(x), 1)
  if (isMap(v)) return Object.values(v).reduce((n: number, x) => n + countNodes(x), 1)
  return 1
}

function clone(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v)
  if (Array.isArray(v)) return v.map(clone)
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]))
  return v
}

export function mutateTree(tree: unknown, ms: readonly TreeMutation[]): unknown {
  const root = { v: clone(tree) }
  for (const m of ms) {
    const all = slots(root)
    const pick = (i: number): Slot => all[i % all.length]!
    switch (m.t) {
      case 'replace':
        setSlot(pick(m.node), clone(m.value))
        break
      case 'drop':
        if (m.node % all.length > 0) removeSlot(pick(m.node))
        break
      case 'add': {
        const target = getSlot(pick(m.node))
        if (Array.isArray(target)) target.push(clone(m.value))
        else if (isMap(target)) Object.defineProperty(target, m.key, { value: clone(m.value), enumerable: true, writable: true, configurable: true })
        break
      }
      case 'swap': {
        const a = pick(m.a)
        const b = pick(m.b)
        // Copies, so swapping a node with one of its own descendants cannot make a cycle.
        const av = clone(getSlot(a))
        setSlot(a, clone(getSlot(b)))
        setSlot(b, av)
        break
      }
      case 'nest': {
        const s = pick(m.node)
        let v = getSlot(s)
        for (let i = 0; i < m.depth; i++) v = m.map ? { a: v } : [v]
        setSlot(s, v)
        break
      }
      case 'grow': {
        // Many copies of one item (a long list of envelopes, seals, ids), kept under ~6,000 nodes in all so stacked
        // mutations cannot multiply into gigabytes before the decoder is even called.
        const s = pick(m.node)
        const target = getSlot(s)
        const item = Array.isArray(target) && target.length > 0 ? target[0] : target
        const times = Math.min(m.times, Math.floor(6_000 / Math.max(1, all.length + countNodes(item))), Math.floor(256 * 1024 / byteSize(item)))
        if (times >= 2) setSlot(s, Array.from({ length: times }, () => item))
        break
      }
    }
  }
  return root.v
}

/**
 * Encodes a mutated tree: canonically with cborg, or loosely (`looseCbor`: long-form lengths, indefinite lengths) so
 * decoders also meet encodings their own encoder never makes. Values cborg cannot encode fall back to loose.
 */
export function encodeTree(value: unknown, loose: LooseStyle | null): Uint8Array {
  if (loose === null) {
    try {
      return encodeCbor(value)
    } catch {
      return looseCbor(value, { longLengths: false, indefinite: false })
    }
  }
  return looseCbor(value, loose)
}

export interface LooseStyle {
  longLengths: boolean
  indefinite: boolean
}

const looseStyle: fc.Arbitrary<LooseStyle | null> = fc.option(fc.record({ longLengths: fc.boolean(), indefinite: fc.boolean() }), {
  freq: 3,
})

function header(major: number, n: number | bigint, long: boolean): number[] {
  const m = major << 5
  const v = BigInt(n)
  if (!long && v < 24n) return [m | Number(v)]
  if (!long && v < 256n) return [m | 24, Number(v)]
  if (!long && v < 65_536n) return [m | 25, Number(v >> 8n), Number(v & 0xffn)]
  if (!long && v < 2n ** 32n) return [m | 26, ...[24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn))]
  return [m | 27, ...[56n, 48n, 40n, 32n, 24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn))]
}

const textEncoder = new TextEncoder()

/** A small CBOR encoder that can use non-shortest lengths and indefinite-length items (what strict decoders refuse). */
export function looseCbor(value: unknown, style: LooseStyle): Uint8Array {
  const parts: Uint8Array[] = []
  const push = (...bytes: number[]): void => {
    parts.push(Uint8Array.from(bytes))
  }
  const payload = (major: number, b: Uint8Array): void => {
    if (style.indefinite) push((major << 5) | 31)
    push(...header(major, b.length, style.longLengths))
    parts.push(b)
    if (style.indefinite) push(0xff)
  }
  const write = (v: unknown): void => {
    if (v === null) push(0xf6)
    else if (v === undefined) push(0xf7)
    else if (v === true) push(0xf5)
    else if (v === false) push(0xf4)
    else if (typeof v === 'bigint') {
      const max = 2n ** 64n - 1n
      if (v >= 0n) push(...header(0, v > max ? max : v, style.longLengths))
      else push(...header(1, -1n - v > max ? max : -1n - v, style.longLengths))
    } else if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        push(...(v >= 0 ? header(0, v, style.longLengths) : header(1, -1 - v, style.longLengths)))
      } else {
        const b = new DataView(new ArrayBuffer(9))
        b.setUint8(0, 0xfb)
        b.setFloat64(1, v)
        parts.push(new Uint8Array(b.buffer))
      }
    } else if (typeof v === 'string') {
      payload(3, textEncoder.encode(v))
    } else if (v instanceof Uint8Array) {
      payload(2, v)
    } else if (Array.isArray(v)) {
      push(...(style.indefinite ? [0x9f] : header(4, v.length, style.longLengths)))
      v.forEach(write)
      if (style.indefinite) push(0xff)
    } else if (isMap(v)) {
      const entries = Object.entries(v)
      push(...(style.indefinite ? [0xbf] : header(5, entries.length, style.longLengths)))
      for (const [k, x] of entries) {
        write(k)
        write(x)
      }
      if (style.indefinite) push(0xff)
    } else {
      push(0xf6)
    }
  }
  write(value)
  return concatByteList(parts)
}

/** A valid encoding from `seeds`, decoded, mutated as a tree (1..4 mutations) and encoded again. */
export function mutatedCbor(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const trees = seeds.flatMap((s) => {
    try {
      return [cborTree(s)]
    } catch {
      return []
    }
  })
  if (trees.length === 0) return fc.uint8Array({ maxLength: 64 })
  return fc
    .tuple(fc.nat({ max: trees.length - 1 }), fc.array(treeMutation, { minLength: 1, maxLength: 4 }), looseStyle)
    .map(([i, ms, style]) => encodeTree(mutateTree(trees[i], ms), style))
}

/** Deep nesting written directly as bytes (no recursion needed to build it): `depth` array or map headers, then a seed. */
export function deeplyNested(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.nat({ max: seeds.length - 1 }),
      fc.oneof(fc.integer({ min: 8, max: 40 }), fc.integer({ min: 100, max: 60_000 })),
      fc.constantFrom(0x81, 0x9f, 0xa1),
    )
    .map(([i, depth, head]) => {
      const seed = seeds[i]!
      const unit = head === 0xa1 ? 3 : 1
      const out = new Uint8Array(depth * unit + seed.length + (head === 0x9f ? depth : 0))
      if (head === 0xa1) {
        for (let d = 0; d < depth * 3; d += 3) {
          out[d] = 0xa1
          out[d + 1] = 0x61
          out[d + 2] = 0x61
        }
      } else {
        out.fill(head, 0, depth)
      }
      out.set(seed, depth * unit)
      if (head === 0x9f) out.fill(0xff, depth + seed.length)
      return out
    })
}

/** Everything a byte decoder gets: random bytes, byte mutations, CBOR tree mutations and deep nesting. */
export function hostileBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    // Unchanged seeds too: they show the decoder accepts what it should, and exercise the value checks.
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
    { weight: 4, arbitrary: mutatedBytes(seeds) },
    { weight: 4, arbitrary: mutatedCbor(seeds) },
    { weight: 1, arbitrary: deeplyNested(seeds) },
  )
}

/** Text mutations for text decoders (invite codes, HLCs, ref keys): character edits of valid strings and random text. */
export function hostileText(seeds: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.record({ t: fc.constant('del' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ t: fc.constant('ins' as const), at: fc.nat(), s: fc.string({ maxLength: 4, unit: 'binary' }) }),
    fc.record({ t: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ t: fc.constant('dup' as const), times: fc.integer({ min: 2, max: 3 }) }),
  )
  type Edit = { t: 'del'; at: number; n: number } | { t: 'ins'; at: number; s: string } | { t: 'cut'; at: number } | { t: 'dup'; times: number }
  const apply = (s: string, e: Edit): string => {
    if (e.t === 'dup') return s.repeat(e.times)
    const at = s.length === 0 ? 0 : e.at % (s.length + 1)
    switch (e.t) {
      case 'del':
        return s.slice(0, at) + s.slice(at + e.n)
      case 'ins':
        return s.slice(0, at) + e.s + s.slice(at)
      case 'cut':
        return s.slice(0, at)
    }
  }
  const set = fc.record({ t: fc.constant('set' as const), at: fc.nat(), c: fc.constantFrom(...'0123456789abcdef-_/:.AZaz') })
  return fc.oneof(
    fc.constantFrom(...seeds),
    fc.string({ maxLength: 200, unit: 'binary' }),
    fc
      .tuple(fc.constantFrom(...seeds), fc.array(set, { minLength: 1, maxLength: 3 }))
      .map(([s, es]) => es.reduce((acc, e) => (acc.length === 0 ? e.c : acc.slice(0, e.at % acc.length) + e.c + acc.slice((e.at % acc.length) + 1)), s)),
    fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, es]) => es.reduce(apply, s)),
  )
}
