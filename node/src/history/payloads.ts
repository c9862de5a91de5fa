import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { bytes, parseWire, uint } from '../../common/wire/schema.js'

/**
 * What is inside an envelope's body, by envelope kind. Each decoder bounds its input; all are CBOR maps with short
 * keys so a new optional field can be added without a new envelope version.
 */

/** kind content: one Automerge change for one shard of the envelope's epoch. */
export interface ContentPayload {
  shard: number
  change: Uint8Array
}
const contentSchema = z.object({ s: uint.max(1_000_000), c: bytes() })
export const encodeContent = (p: ContentPayload) => encodeCbor({ s: p.shard, c: p.change })
export function decodeContent(b: Uint8Array): ContentPayload {
  const raw = parseWire(contentSchema, decodeCbor(b, Limits.maxEnvelopeBytes, 'content'), 'content')
  return { shard: raw.s, change: raw.c }
}

/** kind keys: the sender's chain for this epoch, sealed to each recipient device. */
export interface KeysPayload {
  recipients: Array<{ device: string; box: Uint8Array }>
}
const keysSchema = z.object({
  r: z.array(z.object({ d: z.string().regex(/^[0-9a-f]{64}$/), b: bytes().refine((b) => b.length <= 256) })).max(512),
})
export const encodeKeys = (p: KeysPayload) => encodeCbor({ r: p.recipients.map((r) => ({ d: r.device, b: r.box })) })
export function decodeKeys(b: Uint8Array): KeysPayload {
  const raw = parseWire(keysSchema, decodeCbor(b, Limits.maxEnvelopeBytes, 'keys'), 'keys')
  return { recipients: raw.r.map((r) => ({ device: r.d, box: r.b })) }
}

/** Inside each recipient's sealed box in a keys payload: the sender's chain key for the epoch, from index 0. */
const chainGrantSchema = z.object({ k: bytes(32), i: z.literal(0) })
export const encodeChainGrant = (chainKey: Uint8Array) => encodeCbor({ k: chainKey, i: 0 })
export const decodeChainGrant = (b: Uint8Array): Uint8Array =>
  parseWire(chainGrantSchema, decodeCbor(b, 128, 'chain grant'), 'chain grant').k

/** kind membership: one signed membership operation. */
const membershipSchema = z.object({ o: bytes() })
export const encodeMembership = (op: Uint8Array) => encodeCbor({ o: op })
export const decodeMembership = (b: Uint8Array): Uint8Array =>
  parseWire(membershipSchema, decodeCbor(b, Limits.maxEnvelopeBytes, 'membership'), 'membership').o

/** kind signal: a receipt (what the sender holds and has read). Last writer by HLC wins; replays are harmless. */
export interface ReceiptPayload {
  hlc: string
  epoch: string
  have: Record<string, number>
  readUpTo: string
}
const receiptSchema = z.object({
  t: z.literal('receipt'),
  h: z.string().max(40),
  e: z.string().regex(/^[0-9a-f]{16}$/),
  w: z.record(z.string().regex(/^[0-9a-f]{64}$/), uint),
  r: z.string().max(100),
})
export const encodeReceipt = (p: ReceiptPayload) =>
  encodeCbor({ t: 'receipt', h: p.hlc, e: p.epoch, w: p.have, r: p.readUpTo })
export function decodeReceipt(b: Uint8Array): ReceiptPayload {
  const raw = parseWire(receiptSchema, decodeCbor(b, Limits.maxEnvelopeBytes, 'receipt'), 'receipt')
  return { hlc: raw.h, epoch: raw.e, have: raw.w, readUpTo: raw.r }
}
