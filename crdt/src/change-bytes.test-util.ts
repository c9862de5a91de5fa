/**
 * Test-only: writes Automerge change chunks from raw columns, to build changes no honest Automerge would write
 * (truncated or overlong columns, object counters of 0 or past u32, unknown columns) for the change reader's tests.
 */
export function uleb(n: number | bigint): number[] {
  let v = BigInt(n)
  const out: number[] = []
  do {
    let b = Number(v & 0x7fn)
    v >>= 7n
    if (v !== 0n) b |= 0x80
    out.push(b)
  } while (v !== 0n)
  return out
}

export function sleb(n: number | bigint): number[] {
  let v = BigInt(n)
  const out: number[] = []
  for (;;) {
    const b = Number(v & 0x7fn)
    v >>= 7n
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

/** An RLE column of literal runs (null runs for nulls), values written by `write`. */
export function literalColumn<T>(values: ReadonlyArray<T | null>, write: (v: T) => number[]): number[] {
  const out: number[] = []
  let i = 0
  while (i < values.length) {
    if (values[i] === null) {
      let j = i
      while (j < values.length && values[j] === null) j++
      out.push(...sleb(0), ...uleb(j - i))
      i = j
    } else {
      let j = i
      while (j < values.length && values[j] !== null) j++
      out.push(...sleb(-(j - i)))
      for (let k = i; k < j; k++) out.push(...write(values[k] as T))
      i = j
    }
  }
  return out
}

export const ulebColumn = (values: ReadonlyArray<number | bigint | null>): number[] => literalColumn(values, uleb)
export const slebColumn = (values: ReadonlyArray<number | bigint | null>): number[] => literalColumn(values, sleb)
export const stringColumn = (values: ReadonlyArray<string | null>): number[] =>
  literalColumn(values, (s) => {
    const b = [...new TextEncoderShim().encode(s)]
    return [...uleb(b.length), ...b]
  })

/** ASCII-only stand-in for TextEncoder (crdt/ compiles without DOM or Node types); tests use ASCII keys. */
class TextEncoderShim {
  encode(s: string): Uint8Array {
    return Uint8Array.from(s, (c) => {
      const code = c.charCodeAt(0)
      if (code > 0x7f) throw new Error('ASCII only')
      return code
    })
  }
}

export interface RawChange {
  actor: string
  others?: string[]
  seq?: number
  startOp?: number | bigint
  deps?: Uint8Array[]
  columns: Array<[spec: number, data: number[]]>
  chunkType?: number
  extra?: number[]
}

const hexBytes = (h: string): number[] => Array.from({ length: h.length / 2 }, (_, i) => parseInt(h.slice(i * 2, i * 2 + 2), 16))

/** The chunk, with a zero checksum (Automerge does not check it when decoding or applying). */
export function writeChange(c: RawChange): Uint8Array {
  const body: number[] = []
  body.push(...uleb(c.deps?.length ?? 0))
  for (const d of c.deps ?? []) body.push(...d)
  const actor = hexBytes(c.actor)
  body.push(...uleb(actor.length), ...actor)
  body.push(...uleb(c.seq ?? 1), ...uleb(c.startOp ?? 1), ...sleb(0), ...uleb(0))
  body.push(...uleb(c.others?.length ?? 0))
  for (const o of c.others ?? []) {
    const b = hexBytes(o)
    body.push(...uleb(b.length), ...b)
  }
  body.push(...uleb(c.columns.length))
  for (const [spec, data] of c.columns) body.push(...uleb(spec), ...uleb(data.length))
  for (const [, data] of c.columns) body.push(...data)
  body.push(...(c.extra ?? []))
  return Uint8Array.from([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, c.chunkType ?? 1, ...uleb(body.length), ...body])
}
