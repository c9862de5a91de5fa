import * as Automerge from '@automerge/automerge'
import type { Heads, Patch } from '@automerge/automerge'
import { applyRemoteChanges, touchedFromPatches, type RejectedChange, type TouchedSet } from './apply.js'
import { isActorId, type ActorId } from './ids.js'
import { refKey, type MessageRef } from './ref.js'
import type { Shard, ShardRoot } from './schema.js'
import { createShard } from './shard.js'

type Handle = ReturnType<typeof Automerge.getBackend>
type Obj = Record<string, unknown>

/**
 * A shard document held only in Automerge's WebAssembly state, without the JavaScript object `Automerge.applyChanges`
 * keeps in step with it. Building that object is most of what applying a change costs (docs/adr/0028): catching up a
 * shard of 256 messages built it 256 times, for rows that read a handful of fields of each message. Here changes are
 * applied to the wasm document alone, the touched messages come from Automerge's own diff, and `view` builds a
 * read-only object holding exactly what the selectors read for those messages. `toShard` makes the ordinary document
 * when something needs one (a send, an edit, the details of a message).
 *
 * Unlike a document, a RawShard is mutable: `apply` changes it in place (node/src/core/history/shards.ts keeps cache
 * entries immutable by naming a position in it).
 */
export class RawShard {
  /** Every change applied, for `toShard`: a save would drop changes still waiting for their dependencies. */
  private readonly changes: Uint8Array[] = []

  private constructor(
    private readonly handle: Handle,
    readonly actor: ActorId,
  ) {
    // No patch log: nothing here reads patches since the last call, only diffs between heads it names.
    handle.resetDiffCursor()
  }

  /** An empty shard, or one holding `changes` (already checked by the authorship rule), as `applyRemoteChanges` would. */
  static of(actor: ActorId, changes: readonly Uint8Array[] = []): { shard: RawShard; rejected: RejectedChange[] } {
    // `init` registers Automerge's datatypes (ImmutableString, Counter) on the handle, so `view` reads values exactly as
    // the materialised document holds them; the empty document's object is never used again.
    const shard = new RawShard(Automerge.getBackend(Automerge.init<ShardRoot>({ actor })), actor)
    const { rejected } = shard.applyAll(changes)
    return { shard, rejected }
  }

  heads(): Heads {
    return this.handle.getHeads()
  }

  /** Applies remote changes like `applyRemoteChanges` and reports what they touched, from Automerge's diff. */
  apply(changes: readonly Uint8Array[]): { touched: TouchedSet; rejected: RejectedChange[] } {
    const before = this.handle.getHeads()
    const { rejected } = this.applyAll(changes)
    const after = this.handle.getHeads()
    if (before.length === after.length && before.every((h, i) => h === after[i])) return { touched: { messages: [], reactionTargets: [] }, rejected }
    const patches = this.handle.diff(before, after) as Patch[]
    const touched = touchedFromPatches(patches, (author, section) => [...this.sectionKeys(author, section, before), ...this.sectionKeys(author, section, after)])
    return { touched, rejected }
  }

  private applyAll(changes: readonly Uint8Array[]): { rejected: RejectedChange[] } {
    const rejected: RejectedChange[] = []
    if (changes.length === 0) return { rejected }
    try {
      this.handle.applyChanges([...changes])
      this.changes.push(...changes)
    } catch {
      // As in applyRemoteChanges: the call is atomic, so retry one by one to let the good changes through.
      for (const change of changes) {
        try {
          this.handle.applyChanges([change])
          this.changes.push(change)
        } catch (err) {
          rejected.push({ change, reason: err instanceof Error ? err.message : String(err) })
        }
      }
    }
    return { rejected }
  }

  /**
   * The keys of `author`'s section at `heads` exactly as touchedBetween reads them from the materialised document:
   * `m` and `r` only when `subtreeOf` accepts the subtree, `x` whenever it is an object. Maps are listed in place;
   * anything else is materialised (only a malformed subtree has one), so the selectors' own tests apply to it.
   */
  private sectionKeys(author: ActorId, section: 'm' | 'r' | 'x', heads: Heads): string[] {
    const sub = this.node('_root', author, heads)
    if (section === 'x') {
      const x = child(sub, 'x', this, heads)
      if (x.map !== undefined) return this.handle.keys(x.map, heads)
      return typeof x.value === 'object' && x.value !== null ? Object.keys(x.value) : []
    }
    if (!isObjLike(sub)) return []
    const m = child(sub, 'm', this, heads)
    const r = child(sub, 'r', this, heads)
    if (!isObjLike(m) || !isObjLike(r)) return []
    const s = section === 'm' ? m : r
    return s.map !== undefined ? this.handle.keys(s.map, heads) : Object.keys(s.value as Obj)
  }

  /** A map as its object id (read lazily), anything else as the exact value the materialised document holds. */
  node(obj: string, key: string, heads: Heads): Node {
    const v = this.handle.getWithType(obj, key, heads)
    if (v !== null && v[0] === 'map') return { map: v[1] as string }
    return { value: this.value(obj, key, heads) }
  }

  private mapAt(obj: string, key: string, heads?: Heads): string | undefined {
    const v = this.handle.getWithType(obj, key, heads)
    return v !== null && v[0] === 'map' ? (v[1] as string) : undefined
  }

  /**
   * A value exactly as the materialised document holds it: objects materialised whole; a scalar through its parent,
   * since `get` returns scalars without Automerge's datatypes (a Counter as a number, an ImmutableString as a string).
   * Only a malformed subtree has a scalar where these are called, so the parent's cost is paid only for junk.
   */
  private value(obj: string, key: string, heads?: Heads): unknown {
    const v = this.handle.getWithType(obj, key, heads)
    if (v === null) return undefined
    if (v[0] === 'map' || v[0] === 'list' || v[0] === 'text' || v[0] === 'table') return this.handle.materialize(v[1] as string, heads)
    return (this.handle.materialize(obj, heads) as Obj)[key]
  }

  /**
   * A read-only document for the selectors (readMessage, adminDeletesOf) that holds, for `refs`, exactly what the
   * whole document holds: every root key, and in each device's subtree its `m` entries for the refs it wrote and its
   * `r` and `x` entries for every ref. Anything that is not a map where the honest shape has one is materialised
   * whole, so a malformed subtree reads as it would in the whole document. Nothing else of the shard is in it.
   */
  view(refs: readonly MessageRef[]): Shard {
    const keys = [...new Set(refs.map(refKey))]
    const root: Obj = {}
    for (const actor of this.handle.keys('_root')) {
      const sub = this.mapAt('_root', actor)
      if (sub === undefined || !isActorId(actor)) {
        root[actor] = this.value('_root', actor)
        continue
      }
      const ids = refs.filter((r) => r.author === actor).map((r) => r.id as string)
      const section = (name: string, wanted: readonly string[]): unknown => {
        const obj = this.mapAt(sub, name)
        if (obj === undefined) return this.value(sub, name)
        const out: Obj = {}
        for (const key of wanted) {
          const v = this.value(obj, key)
          if (v !== undefined) out[key] = v
        }
        return out
      }
      const view: Obj = {}
      for (const [name, wanted] of [['m', ids], ['r', keys], ['x', keys]] as const) {
        const v = section(name, wanted)
        if (v !== undefined) view[name] = v
      }
      root[actor] = view
    }
    return root as unknown as Shard
  }

  /** How many changes have been applied (rejected ones aside): a position `toShard` can be asked for. */
  get size(): number {
    return this.changes.length
  }

  /**
   * The ordinary (materialised) document holding the first `size` changes applied here: a cache entry that names the
   * RawShard as it was when the entry was made reads that state, whatever was applied since.
   */
  toShard(size = this.changes.length): Shard {
    return applyRemoteChanges(createShard(this.actor), this.changes.slice(0, size)).doc
  }
}

interface Node {
  map?: string
  value?: unknown
}

/** selectors.ts `isObj`: what the selectors take for a map (not an array, not an ImmutableString). */
function isObjLike(n: Node): boolean {
  if (n.map !== undefined) return true
  const v = n.value
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Automerge.isImmutableString(v)
}

function child(n: Node, key: string, shard: RawShard, heads: Heads): Node {
  if (n.map !== undefined) return shard.node(n.map, key, heads)
  const v = n.value
  return { value: typeof v === 'object' && v !== null ? (v as Obj)[key] : undefined }
}
