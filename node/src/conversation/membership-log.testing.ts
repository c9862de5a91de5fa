import { encodeHlc } from '../../../crdt/src/index.js'
import type { Identity } from '../identity/identity.js'
import type { ConversationId, DeviceId, EpochId, OpHash } from '../ids.js'
import { computeLog, type LogState } from './membership-log.js'
import { signOp, type InviteGrant, type MembershipOp, type NewEpoch, type OpBody, type Role } from './membership-op.js'

/** Builders for membership-log tests: signed operations on a linear (or hand-branched) log with controlled clocks. */
export const T0 = 1_700_000_000_000
/** The reader's clock: far enough ahead that no test operation waits for it, unless a test says otherwise. */
export const NOW = T0 + 10 ** 13
export const CONV = '0c'.repeat(16) as ConversationId
export const OTHER_CONV = '0d'.repeat(16) as ConversationId

let counter = 0
export const nextHex = (chars: number) => (++counter).toString(16).padStart(chars, '0')
export const epochId = () => nextHex(16) as EpochId
export const inviteId = () => nextHex(32)
/** The log never opens the boxes; a recognisable dummy keeps the tests fast. */
export const box = (device: DeviceId) => new Uint8Array(48).fill(Number.parseInt(device.slice(0, 2), 16))
export const epochFor = (devices: Iterable<DeviceId>): NewEpoch => ({
  id: epochId(),
  seals: [...devices].map((device) => ({ device, box: box(device) })),
})
export const grant = (opts: Partial<Omit<InviteGrant, 'id' | 'key'>> = {}): InviteGrant => ({
  id: inviteId(),
  key: new Uint8Array(32).fill(7),
  expiresAt: opts.expiresAt ?? 0,
  singleUse: opts.singleUse ?? true,
})

export function sign(author: Identity, prev: OpHash[], hlc: string, body: OpBody, conversation = CONV): MembershipOp {
  return signOp({ conversation, prev, hlc, author: author.cert, deviceSeed: author.deviceKey.seed, body })
}

export const addBody = (who: Identity, epoch: EpochId, opts: { via?: string | null; role?: Role } = {}): OpBody => ({
  type: 'add',
  certs: [who.cert],
  role: opts.role ?? 'member',
  via: opts.via ?? null,
  epoch,
  seals: [{ device: who.deviceId, box: box(who.deviceId) }],
})

/** A linear log: each operation names the heads of everything appended so far, one millisecond apart by default. */
export class Chain {
  readonly ops: MembershipOp[] = []
  wall = T0

  get root(): OpHash {
    return this.ops[0]!.hash
  }

  state(ops: Iterable<MembershipOp> = this.ops): LogState {
    const s = computeLog(ops, this.root, NOW)
    if (s === undefined) throw new Error('no state')
    return s
  }

  append(author: Identity, body: OpBody, opts: { prev?: OpHash[]; wall?: number; hlc?: string; conversation?: ConversationId } = {}) {
    const prev = opts.prev ?? (this.ops.length === 0 ? [] : this.state().heads)
    // Like a real clock that has seen the parents: after each of them.
    const parentWalls = this.ops.filter((o) => prev.includes(o.hash)).map((o) => Number.parseInt(o.hlc.slice(0, 13), 10))
    this.wall = Math.max(this.wall, ...parentWalls)
    const wall = opts.wall ?? ++this.wall
    const op = sign(author, prev, opts.hlc ?? encodeHlc({ wall, counter: 0 }), body, opts.conversation ?? CONV)
    this.ops.push(op)
    return op
  }

  create(author: Identity, kind: 'group' | 'direct' = 'group'): EpochId {
    const epoch = epochFor([author.deviceId])
    this.append(author, { type: 'create', kind, name: 'Family', epoch })
    return epoch.id
  }
}

