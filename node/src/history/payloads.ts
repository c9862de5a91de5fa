import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { bytes, parseWire, uint } from '../../common/wire/schema.js'

/**
 * What is inside an envelope's body, by envelope kind. Each decoder bounds its input; all are CBOR maps with short
 * keys so a new optional field can be added without a new envelope version.
 */

/**
 * kind content: one Automerge change for one shard. The shard is of the envelope's epoch unless `epoch` names an
 * earlier one: a reaction, edit or delete must reach the document that holds its target, which may have been written
 * before the last rotation. A change that creates messages always goes to the envelope's own epoch.
 */
export interface ContentPayload {
  shard: number
  change: Uint8Array
  epoch?: string | undefined
}
const contentSchema = z.object({ s: uint.max(1_000_000), c: bytes(), e: z.string().regex(/^[0-9a-f]{16}$/).optional() })
export const encodeContent = (p: ContentPayload) => encodeCbor(p.epoch === undefined ? { s: p.shard, c: p.change } : { s: p.shard, c: p.change, e: p.epoch })
export function decodeContent(b: Uint8Array): ContentPayload {
  const raw = parseWire(contentSchema, decodeCbor(b, Limits.maxEnvelopeBytes, 'content'), 'content')
  return raw.e === undefined ? { shard: raw.s, change: raw.c } : { shard: raw.s, change: raw.c, epoch: raw.e }
}

/**
 * kind keys: the sender's chain for this epoch, sealed to each recipient device; and chains of other senders this
 * device received and hands on to a device it sealed into their epoch (`forwarded`, docs/adr/0033). A forwarded chain
 * is only an offer: the recipient takes it once it opens one of that sender's envelopes.
 */
export interface KeysPayload {
  recipients: Array<{ device: string; box: Uint8Array }>
  forwarded?: ForwardedChain[]
}
export interface ForwardedChain {
  /** The device it is sealed to. */
  device: string
  epoch: string
  /** The device whose chain it is. */
  sender: string
  box: Uint8Array
}
/** Forwarded chains in one keys envelope; more go in the next. */
export const MAX_FORWARDED_PER_ENVELOPE = 256
const deviceHex = z.string().regex(/^[0-9a-f]{64}$/)
const boxBytes = bytes().refine((b) => b.length <= 256)
const keysSchema = z.object({
  r: z.array(z.object({ d: deviceHex, b: boxBytes })).max(512),
  f: z.array(z.object({ d: deviceHex, e: z.string().regex(/^[0-9a-f]{16}$/), s: deviceHex, b: boxBytes })).max(MAX_FORWARDED_PER_ENVELOPE).optional(),
})
export function encodeKeys(p: KeysPayload): Uint8Array {
  const r = p.recipients.map((x) => ({ d: x.device, b: x.box }))
  if (p.forwarded === undefined || p.forwarded.length === 0) return encodeCbor({ r })
  return encodeCbor({ r, f: p.forwarded.map((x) => ({ d: x.device, e: x.epoch, s: x.sender, b: x.box })) })
}
export function decodeKeys(b: Uint8Array): KeysPayload {
  const raw = parseWire(keysSchema, decodeCbor(b, Limits.maxEnvelopeBytes, 'keys'), 'keys')
  const recipients = raw.r.map((r) => ({ device: r.d, box: r.b }))
  // An empty list is read as none, as encodeKeys writes it (found by the fuzzer: `f: []` did not round-trip).
  if (raw.f === undefined || raw.f.length === 0) return { recipients }
  return { recipients, forwarded: raw.f.map((f) => ({ device: f.d, epoch: f.e, sender: f.s, box: f.b })) }
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
export const decodeReceipt = (b: Uint8Array): ReceiptPayload => receiptOf(decodeCbor(b, Limits.maxEnvelopeBytes, 'receipt'))
function receiptOf(value: unknown): ReceiptPayload {
  const raw = parseWire(receiptSchema, value, 'receipt')
  return { hlc: raw.h, epoch: raw.e, have: raw.w, readUpTo: raw.r }
}

/** kind signal: "I am typing" (ephemeral: never stored, never deposited on a relay). */
export interface TypingPayload {
  hlc: string
}
const typingSchema = z.object({ t: z.literal('typing'), h: z.string().max(40) })
export const encodeTyping = (p: TypingPayload) => encodeCbor({ t: 'typing', h: p.hlc })

/** A signal of any type, told apart by its `t` field. */
export type SignalPayload = { type: 'receipt'; receipt: ReceiptPayload } | { type: 'typing'; typing: TypingPayload }
export function decodeSignal(b: Uint8Array): SignalPayload {
  const raw = decodeCbor(b, Limits.maxEnvelopeBytes, 'signal')
  const type = typeof raw === 'object' && raw !== null && 't' in raw ? (raw as { t: unknown }).t : undefined
  if (type === 'typing') return { type: 'typing', typing: { hlc: parseWire(typingSchema, raw, 'typing').h } }
  return { type: 'receipt', receipt: receiptOf(raw) }
}

/**
 * The secrets part of a content envelope (docs/adr/0020): the content key of each message the envelope's change
 * creates. A receiver takes a key only for a message that change creates, so no member can replace another's key.
 */
export interface ContentSecrets {
  keys: Array<{ message: string; key: Uint8Array }>
}
const contentSecretsSchema = z.object({ k: z.array(z.object({ m: z.string().regex(/^[0-9a-f]{32}$/), k: bytes(32) })).max(64) })
export const encodeContentSecrets = (p: ContentSecrets) => encodeCbor({ k: p.keys.map((e) => ({ m: e.message, k: e.key })) })
export function decodeContentSecrets(b: Uint8Array): ContentSecrets {
  const raw = parseWire(contentSecretsSchema, decodeCbor(b, 16 * 1024, 'content secrets'), 'content secrets')
  return { keys: raw.k.map((e) => ({ message: e.m, key: e.k })) }
}
