import { z } from 'zod'
import { HearthError } from '../../../common/errors.js'
import { Limits } from '../../../common/wire/limits.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { boundedBytes, bytes, parseWire, uint } from '../../../common/wire/schema.js'
import { BUNDLE_FRAME_BYTES } from './pair-channel.js'

/**
 * The frames of `/hearth/pair/1.0.0` (docs/PROTOCOL.md, "Linking a device"): canonical CBOR maps told apart by `t`.
 * Each schema bounds every field, so a frame that parses is small and well-formed whatever the peer claims.
 */

/** What the existing device hands the new one, inside the sealed box. */
export interface AccountSecrets {
  accountSeed: Uint8Array
  entropy?: Uint8Array
  displayName: string
}

/** One conversation the new device is admitted to, with its whole membership log. */
export interface LinkedConversation {
  /** 32 hex. */
  id: string
  /** 64 hex. */
  root: string
  kind: 'direct' | 'group'
  name: string
  createdAt: number
  relays: string[]
  /** The membership log's operations, each as encoded. */
  ops: Uint8Array[]
}

/** Operations per conversation in a bundle. */
export const MAX_LINKED_OPS = 10_000
/** Conversations in a bundle. */
export const MAX_LINKED_CONVERSATIONS = 5_000
/** All of a bundle's operations together: what the new device holds in memory before handing them over. */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024
/** Conversation ids in one `rest` frame (16 bytes each: a frame stays under 24 KiB). */
export const MAX_REST_IDS_PER_FRAME = 1_000
/**
 * Op bytes of the logs E puts in the pairing itself over a relayed connection: none. The relay cuts a relayed
 * connection after its data limit (the Hearth relay's default 128 KiB, 1 KiB at the least), and once E admitted N,
 * E's core sends N what it sends any device of a conversation (sync streams, own-sync, gossip subscriptions): a few
 * KiB of logs more got the pairing itself cut now and then at 32 KiB. N fetches every log after the link.
 */
export const LIMITED_BUNDLE_BYTES = 0
/** Over a direct connection (a LAN carries this in a second or two): the rest come after the link completed. */
export const DIRECT_BUNDLE_BYTES = 16 * 1024 * 1024
/** A membership operation as the wire bounds it anywhere (Limits.maxMembershipOpBytes). */
export const MAX_OP_BYTES = Limits.maxMembershipOpBytes
/** The sealed account: 32 + 32 bytes, a name, CBOR and AEAD overhead. */
const MAX_SEALED_BYTES = 1024
const MAX_CERT_BYTES = 1024
const MAX_RELAYS = 16
/** A name as the membership log bounds the op field. */
const MAX_NAME_CHARS = 400
/** Room for a frame's other fields and CBOR headers beside its ops. */
const FRAME_OVERHEAD = 4096

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`))
const ops = z.array(boundedBytes(MAX_OP_BYTES)).max(MAX_LINKED_OPS)

/** The reasons a side gives (`fail` frame) when it ends the exchange early; the other side words them for its person. */
export const FAIL_REASONS = ['wrong-code', 'used', 'expired', 'cancelled', 'timeout', 'bad-cert', 'protocol', 'internal'] as const
export type FailReason = (typeof FAIL_REASONS)[number]

export const Frames = {
  helloE: z.object({ t: z.literal('hello'), v: z.literal(1), p: bytes(32), c: bytes(32) }).strict(),
  helloN: z.object({ t: z.literal('hello'), v: z.literal(1), p: bytes(32), n: bytes(32) }).strict(),
  reveal: z.object({ t: z.literal('reveal'), n: bytes(32) }).strict(),
  ready: z.object({ t: z.literal('ready') }).strict(),
  sealed: z.object({ t: z.literal('sealed'), b: boundedBytes(MAX_SEALED_BYTES) }).strict(),
  device: z.object({ t: z.literal('device'), c: boundedBytes(MAX_CERT_BYTES) }).strict(),
  conv: z
    .object({
      t: z.literal('conv'),
      i: hex(32),
      r: hex(64),
      k: z.enum(['direct', 'group']),
      n: z.string().max(MAX_NAME_CHARS),
      a: uint,
      y: z.array(z.string().min(1).max(300)).max(MAX_RELAYS),
      o: ops,
    })
    .strict(),
  /** More operations of the conversation in the frame before (a log larger than one frame). */
  more: z.object({ t: z.literal('ops'), o: ops }).strict(),
  /**
   * The conversations N was admitted to whose logs did not fit the pairing, most recently active first: N fetches
   * them afterwards (restore.ts `logs`). Only after every `conv`/`ops` frame.
   */
  rest: z.object({ t: z.literal('rest'), i: z.array(bytes(16)).min(1).max(MAX_REST_IDS_PER_FRAME) }).strict(),
  /** N has taken in one bundle frame (flow control: E keeps at most BUNDLE_WINDOW_BYTES unacknowledged). */
  ack: z.object({ t: z.literal('ack') }).strict(),
  /** `c` conversations came whole, `p` (absent: none) are named in `rest` frames. */
  end: z.object({ t: z.literal('end'), c: uint, p: uint.optional() }).strict(),
  done: z.object({ t: z.literal('done') }).strict(),
}
const failFrame = z.object({ t: z.literal('fail'), w: z.enum(FAIL_REASONS) }).strict()
const cancelFrame = z.object({ t: z.literal('cancel') }).strict()

const accountSchema = z
  .object({ v: z.literal(1), s: bytes(32), e: bytes(32).optional(), n: z.string().min(1).max(256) })
  .strict()

export function encodeAccount(a: AccountSecrets): Uint8Array {
  if (a.accountSeed.length !== 32 || (a.entropy !== undefined && a.entropy.length !== 32)) {
    throw new HearthError('INVALID_INPUT', 'an account seed and its entropy are 32 bytes each')
  }
  return encodeCbor({ v: 1, s: a.accountSeed, n: a.displayName, ...(a.entropy === undefined ? {} : { e: a.entropy }) })
}

export function decodeAccount(encoded: Uint8Array): AccountSecrets {
  const raw = parseWire(accountSchema, decodeCbor(encoded, MAX_SEALED_BYTES, 'account'), 'account')
  return { accountSeed: raw.s, displayName: raw.n, ...(raw.e === undefined ? {} : { entropy: raw.e }) }
}

/**
 * A conversation as frames: the first carries what it is and as many ops as fit in a bundle frame, `ops` frames
 * carry the rest. Throws when the conversation breaks the bounds the new device checks (our own data, so a bug).
 */
export function conversationFrames(c: LinkedConversation): Array<Record<string, unknown>> {
  if (c.ops.length > MAX_LINKED_OPS) throw new HearthError('TOO_LARGE', `conversation ${c.id} has more than ${MAX_LINKED_OPS} operations`)
  const frames: Array<Record<string, unknown>> = []
  let batch: Uint8Array[] = []
  let size = 0
  const flush = () => {
    frames.push(
      frames.length === 0
        ? { t: 'conv', i: c.id, r: c.root, k: c.kind, n: c.name, a: c.createdAt, y: c.relays, o: batch }
        : { t: 'ops', o: batch },
    )
    batch = []
    size = 0
  }
  for (const op of c.ops) {
    if (op.length > MAX_OP_BYTES) throw new HearthError('TOO_LARGE', `conversation ${c.id} has an operation over ${MAX_OP_BYTES} bytes`)
    // Each op costs its bytes plus a CBOR byte-string head of at most 5 bytes.
    if (size + op.length + 5 > BUNDLE_FRAME_BYTES - FRAME_OVERHEAD - MAX_NAME_CHARS * 3 - MAX_RELAYS * 1000) flush()
    batch.push(op)
    size += op.length + 5
  }
  flush()
  return frames
}

/** Checks a decoded frame against its schema; anything else is the other device's fault. */
export function expectFrame<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  // A cancel or a failure where another frame was expected: the other side ended the exchange; say why.
  const t = typeof value === 'object' && value !== null ? (value as { t?: unknown }).t : undefined
  if (t === 'cancel') {
    parseWire(cancelFrame, value, 'pairing cancel')
    throw new PeerFailed('cancelled')
  }
  if (t === 'fail') throw new PeerFailed(parseWire(failFrame, value, 'pairing failure').w)
  return parseWire(schema, value, what)
}

/** The other device ended the exchange and said why. */
export class PeerFailed extends Error {
  override readonly name = 'PeerFailed'
  constructor(readonly reason: FailReason) {
    super(`the other device ended the link: ${reason}`)
  }
}
