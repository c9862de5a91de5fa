/**
 * `/hearth/chat-request/1.0.0`: asking a device nearby to start a direct chat, and its answer (docs/PROTOCOL.md,
 * docs/adr/0024). One request per stream, CBOR, versioned, bounded before it is parsed:
 *
 *   ask       { v: 1, t: 'ask', i: invite code (text), c: the asking device's certificate (bytes) }
 *   decline   { v: 1, t: 'decline', k: conversation id }
 *
 * The answer is one data frame `{ v: 1 }`, or an error frame with a code (RATE_LIMITED, INVITE_INVALID…).
 */
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { Limits } from '../../../common/wire/limits.js'
import { boundedBytes, parseWire } from '../../../common/wire/schema.js'

export const CHAT_REQUEST_PROTOCOL = '/hearth/chat-request/1.0.0'

/** A device certificate is at most 1 KiB (identity/device-cert.ts); an invite at most Limits.maxInviteChars. */
const MAX_CERT_BYTES = 1024
export const MAX_CHAT_REQUEST_BYTES = 4 * 1024

export const CHAT_REQUEST_LIMITS = {
  maxRequestBytes: MAX_CHAT_REQUEST_BYTES,
  maxResponseBytes: 256,
  timeoutMs: 10_000,
  // A person taps a name now and then; a device asking more often than this is not a person.
  ratePerSecond: 1,
  burst: 5,
  maxInboundStreams: 4,
  // Nearby means a direct connection: a request never arrives through a relay circuit (no runOnLimitedConnection).
} as const

export type ChatRequestFrame = { t: 'ask'; invite: string; cert: Uint8Array } | { t: 'decline'; conversation: string }

const askSchema = z.strictObject({
  v: z.literal(1),
  t: z.literal('ask'),
  i: z.string().min(1).max(Limits.maxInviteChars),
  c: boundedBytes(MAX_CERT_BYTES),
})
const declineSchema = z.strictObject({
  v: z.literal(1),
  t: z.literal('decline'),
  k: z.string().regex(/^[0-9a-f]{32}$/),
})
const frameSchema = z.union([askSchema, declineSchema])
const answerSchema = z.strictObject({ v: z.literal(1) })

export function encodeChatRequest(frame: ChatRequestFrame): Uint8Array {
  return frame.t === 'ask'
    ? encodeCbor({ v: 1, t: 'ask', i: frame.invite, c: frame.cert })
    : encodeCbor({ v: 1, t: 'decline', k: frame.conversation })
}

/** Throws MALFORMED / TOO_LARGE (HearthError) on anything but a well-formed frame of this version. */
export function decodeChatRequest(bytes: Uint8Array): ChatRequestFrame {
  const parsed = parseWire(frameSchema, decodeCbor(bytes, MAX_CHAT_REQUEST_BYTES, 'chat request'), 'chat request')
  return parsed.t === 'ask' ? { t: 'ask', invite: parsed.i, cert: parsed.c } : { t: 'decline', conversation: parsed.k }
}

export function encodeChatAnswer(): Uint8Array {
  return encodeCbor({ v: 1 })
}

export function decodeChatAnswer(bytes: Uint8Array): void {
  parseWire(answerSchema, decodeCbor(bytes, 256, 'chat request answer'), 'chat request answer')
}
