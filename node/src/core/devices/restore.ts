import { z } from 'zod'
import { encodeHlc } from '../../../../crdt/src/index.js'
import { HearthError } from '../../../common/errors.js'
import { request, type HandlerContext } from '../../../common/net/request-response.js'
import { equalBytes } from '../../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { Limits } from '../../../common/wire/limits.js'
import { bytes, parseWire } from '../../../common/wire/schema.js'
import { computeLog, type LogState } from '../../conversation/membership-log.js'
import { decodeOp, signOp, type MembershipOp } from '../../conversation/membership-op.js'
import { isIntroduction } from '../../conversation/membership-state.js'
import { decodeDeviceCert, type DeviceCert } from '../../identity/device-cert.js'
import type { ConversationId, OpHash } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import type { MembershipEngine } from '../membership/membership-engine.js'
import type { LinkedConversation } from './pair-frames.js'
import { linkedConversation, sealEpochsTo } from './handover.js'
import { conversationHeaderFields, logFrames, logsRequestFields, servedLogs } from './linked-logs.js'
import { MAX_INTRODUCTIONS, RESTORE_LIMITS, RESTORE_PROTOCOL } from './restore-protocol.js'

/**
 * `/hearth/restore/1.0.0` (docs/adr/0032): a device restored from the recovery phrase finds its conversations again
 * through any member it reaches. It shows its certificate (signed by the account key, naming the PeerId this
 * connection authenticated); a member answers with the logs of the conversations that account is in. The device then
 * introduces itself in each (an `add-device` it signs itself, with no secrets) and the member, having checked each
 * against its log, stores it and seals to the device the epochs its account read (`reseal`): the history comes back
 * by the usual sync.
 */
export { RESTORE_LIMITS, RESTORE_PROTOCOL } from './restore-protocol.js'

const requestSchema = z.discriminatedUnion('t', [
  z.strictObject({ v: z.literal(1), t: z.literal('list'), c: bytes() }),
  z.strictObject({ v: z.literal(1), t: z.literal('introduce'), c: bytes(), o: z.array(bytes()).min(1).max(MAX_INTRODUCTIONS) }),
  // A newly linked device fetching the logs the pairing named but did not carry (linked-logs.ts).
  z.strictObject({ v: z.literal(1), t: z.literal('logs'), c: bytes(), ...logsRequestFields }),
])
/** One frame: a conversation's header and a page of its log (a long log continues in frames with the same id). */
const frameSchema = z.strictObject({
  ...conversationHeaderFields,
  o: z.array(bytes()).max(10_000),
})

/** Ops per response frame: well under a frame whatever their size (each is at most maxMembershipOpBytes). */
const OPS_PER_FRAME = Math.floor(Limits.maxFrameBytes / Limits.maxMembershipOpBytes) - 1

function* framesOf(list: readonly LinkedConversation[]): Iterable<Uint8Array> {
  for (const c of list) {
    for (let i = 0; i === 0 || i < c.ops.length; i += OPS_PER_FRAME) {
      yield encodeCbor({ i: c.id, r: c.root, k: c.kind, n: c.name, t: c.createdAt, l: c.relays, o: c.ops.slice(i, i + OPS_PER_FRAME) })
    }
  }
}

async function collect(frames: AsyncIterable<Uint8Array>): Promise<LinkedConversation[]> {
  const byId = new Map<string, LinkedConversation>()
  let ops = 0
  for await (const frame of frames) {
    const f = parseWire(frameSchema, decodeCbor(frame, Limits.maxFrameBytes, 'restore answer'), 'restore answer')
    ops += f.o.length
    if (ops > 200_000) throw new HearthError('PROTOCOL_ERROR', 'the member sent an oversized answer')
    const had = byId.get(f.i)
    if (had !== undefined) had.ops.push(...f.o)
    else byId.set(f.i, { id: f.i, root: f.r, kind: f.k, name: f.n, createdAt: f.t, relays: f.l, ops: [...f.o] })
  }
  return [...byId.values()]
}

/** The conversations `cert`'s account is in and the device may come back to (not revoked there), newest first. */
function conversationsOf(kernel: Kernel, cert: DeviceCert): ConversationRuntime[] {
  // Most recently active first: the device shows those first (and a long one does not hold up the rest).
  return [...kernel.conversations.values()].sort((a, b) => b.record.lastActivity - a.record.lastActivity).filter(
    (rt) => !rt.record.removed && rt.log.members.has(cert.account) && !rt.log.revokedDevices.has(cert.device) && rt.log.members.has(kernel.identity.account),
  )
}

/** A member's side: answers a restored device of another member's account (or of ours). */
export class RestoreServer {
  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
  ) {}

  async *serve(requestBytes: Uint8Array, ctx: HandlerContext): AsyncIterable<Uint8Array> {
    const { counters, queue } = this.kernel
    const req = parseWire(requestSchema, decodeCbor(requestBytes, RESTORE_LIMITS.maxRequestBytes, 'restore request'), 'restore request')
    const cert = decodeDeviceCert(req.c)
    // The certificate must name the peer Noise authenticated: nobody replays another device's certificate.
    if (cert.peerId !== ctx.peer) {
      counters.count('restore-refused')
      throw new HearthError('UNAUTHORIZED', 'device certificate does not match the connection')
    }
    if (req.t === 'list') {
      yield* framesOf(conversationsOf(this.kernel, cert).map(linkedConversation))
      return
    }
    if (req.t === 'logs') {
      yield* logFrames(servedLogs(this.kernel, cert, req.i), req.i[0]!, req.s, req.b)
      return
    }
    const answered: LinkedConversation[] = []
    for (const bytesIn of req.o) {
      let op: MembershipOp
      try {
        op = decodeOp(bytesIn)
      } catch {
        counters.count('restore-refused')
        continue
      }
      if (!isIntroduction(op) || !equalBytes(op.author.bytes, cert.bytes)) {
        counters.count('restore-refused')
        continue
      }
      const rt = conversationsOf(this.kernel, cert).find((r) => r.id === op.conversation)
      if (rt === undefined) continue
      const admitted = await queue.run(async () => {
        await this.engine.addOps(rt, [op])
        if (rt.log.members.get(cert.account)?.devices.has(cert.device) !== true) return false
        await this.resealTo(rt, cert)
        return true
      })
      if (admitted) answered.push(linkedConversation(rt))
      else counters.count('restore-refused')
    }
    yield* framesOf(answered)
  }

  /** Seals to the device every epoch we read that its account read and it lacks (membership-state.ts `reseal`). */
  private async resealTo(rt: ConversationRuntime, cert: DeviceCert): Promise<void> {
    const seals = await sealEpochsTo(this.kernel, rt, cert, (epoch) => !epoch.devices.has(cert.device) && [...epoch.devices].some((d) => rt.log.knownDevices.get(d)?.account === cert.account))
    if (seals.length > 0) await this.engine.append(rt, { type: 'reseal', device: cert.device, seals })
  }
}

/**
 * The restored device's side: asks `peer` for our account's conversations, introduces this device in each one we do
 * not hold yet, and returns them as the member answered after admitting us (ready for `Devices.importLinked`).
 */
export async function restoreThrough(kernel: Kernel, peer: string): Promise<LinkedConversation[]> {
  const { identity, node } = kernel
  const ask = (body: Record<string, unknown>) => collect(request(node, peer, RESTORE_PROTOCOL, encodeCbor({ v: 1, c: identity.cert.bytes, ...body }), RESTORE_LIMITS))
  const offered = (await ask({ t: 'list' })).filter((c) => !kernel.conversations.has(c.id as ConversationId))
  const introductions: Uint8Array[] = []
  // Already ours there (linked, and the app stopped before it took the conversations): nothing to introduce.
  const admitted: LinkedConversation[] = []
  for (const c of offered.slice(0, MAX_INTRODUCTIONS)) {
    const log = readLog(c, kernel.now())
    if (log === undefined || !log.members.has(identity.account) || log.revokedDevices.has(identity.deviceId)) continue
    if (log.members.get(identity.account)!.devices.has(identity.deviceId)) {
      admitted.push(c)
      continue
    }
    // The log refuses an operation whose clock is not after its parents'.
    for (const bytesIn of c.ops) kernel.observe(decodeOp(bytesIn).hlc)
    const intro = signOp({
      conversation: c.id as ConversationId,
      prev: log.heads,
      hlc: encodeHlc(kernel.tick()),
      author: identity.cert,
      deviceSeed: identity.deviceKey.seed,
      body: { type: 'add-device', cert: identity.cert, seals: [] },
    })
    introductions.push(intro.bytes)
  }
  if (introductions.length === 0) return admitted
  return [...admitted, ...(await ask({ t: 'introduce', o: introductions }))]
}

function readLog(c: LinkedConversation, now: number): LogState | undefined {
  try {
    const state = computeLog(c.ops.map(decodeOp), c.root as OpHash, now)
    return state?.conversation === c.id ? state : undefined
  } catch {
    return undefined
  }
}
