/**
 * The last-writer-wins map one person's devices keep in step (own-sync.ts): key → { value, when, which device }.
 * An entry beats another when its HLC is later; at the same HLC the larger device id wins, and (two writes of one
 * device at one HLC cannot happen honestly) then the larger encoded value, so any two devices that hold the same
 * entries hold the same map, whatever order the entries came in.
 */

export interface SyncEntry {
  /** The value as JSON (its shape is checked per key by own-sync-values.ts). */
  v: unknown
  /** Encoded HLC of the change (crdt/hlc.ts: fixed width, so strings compare in time order). */
  h: string
  /** Device id of the device that made the change. */
  d: string
}

export type SyncMap = ReadonlyMap<string, SyncEntry>

/** True when `a` wins over `b` (b may be absent). */
export function beats(a: SyncEntry, b: SyncEntry | undefined): boolean {
  if (b === undefined) return true
  if (a.h !== b.h) return a.h > b.h
  if (a.d !== b.d) return a.d > b.d
  return JSON.stringify(a.v) > JSON.stringify(b.v)
}

/** `map` with the entries of `incoming` that beat it; and the keys that changed. `map` is left as it was. */
export function mergeEntries(map: SyncMap, incoming: Iterable<readonly [string, SyncEntry]>): { map: Map<string, SyncEntry>; changed: string[] } {
  const next = new Map(map)
  const changed = new Set<string>()
  for (const [key, entry] of incoming) {
    if (!beats(entry, next.get(key))) continue
    next.set(key, entry)
    changed.add(key)
  }
  return { map: next, changed: [...changed] }
}

/**
 * What to answer a device that sent `theirs`: our entries that beat theirs for the same key, and, when theirs is the
 * whole of its map (`whole`), every entry of ours for a key it does not have.
 */
export function entriesToAnswer(ours: SyncMap, theirs: SyncMap, whole: boolean): Map<string, SyncEntry> {
  const out = new Map<string, SyncEntry>()
  for (const [key, entry] of ours) {
    const other = theirs.get(key)
    if (other === undefined ? whole : beats(entry, other)) out.set(key, entry)
  }
  return out
}
