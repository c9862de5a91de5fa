import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import { z } from 'zod'
import { isHearthError } from '../../../common/errors.js'
import { request } from '../../../common/net/request-response.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { Limits } from '../../../common/wire/limits.js'
import { boundedBytes, parseWire, uint } from '../../../common/wire/schema.js'
import type { DeviceCert } from '../../identity/device-cert.js'
import type { ConversationId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { linkedConversation } from './handover.js'
import { RESTORE_LIMITS, RESTORE_PROTOCOL } from './restore-protocol.js'
import { MAX_BUNDLE_BYTES, MAX_LINKED_OPS, MAX_OP_BYTES, type LinkedConversation } from './pair-frames.js'

/**
 * The logs a newly linked device fetches after the pairing (docs/adr/0032, addendum "Linking over a relay"): the
 * pairing carried the account and the logs that fit one relayed connection, and named the other conversations. The
 * new device asks the device that linked it for those logs, a few conversations per request
 * (`/hearth/restore/1.0.0` `logs`, restore.ts), shown by its certificate. A relay cuts a relayed connection after its
 * data limit: what arrived whole stays, the next request (over a fresh connection) starts where the cut stopped.
 */

/** Conversations named in one request. */
export const LOGS_PER_REQUEST = 64
/**
 * Op bytes in one answer frame (at least one op whatever its size): small, so that a frame fits what is left of a
 * relayed connection and a cut loses at most this much.
 */
export const LOGS_FRAME_BYTES = 8 * 1024
/**
 * Op bytes one answer may carry. An answer cut midway loses what it had not handed over yet (the framing drops a
 * closed stream's buffer), so the new device starts small, doubles the page while answers end whole and halves it
 * when one is cut: a page settles near what a relayed connection carries beside everything else on it.
 */
export const MIN_PAGE_BYTES = 4 * 1024
export const MAX_PAGE_BYTES = 1024 * 1024
const FIRST_PAGE_BYTES = 8 * 1024
/** How long the new device goes on asking while nothing comes (each try waits longer, up to MAX_BACKOFF_MS). */
const NO_PROGRESS_MS = 3 * 60_000
const MAX_BACKOFF_MS = 5_000
const DIAL_TIMEOUT_MS = 15_000

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`))

/** A conversation as an answer names it (restore `list` and `logs` frames): id, root, kind, name, created, relays. */
export const conversationHeaderFields = {
  i: hex(32),
  r: hex(64),
  k: z.enum(['direct', 'group']),
  n: z.string().max(1024),
  t: uint,
  l: z.array(z.string().max(512)).max(16),
}

export const logsRequestFields = {
  /** The conversations, in the order the linking device listed them (most recently active first). */
  i: z.array(hex(32)).min(1).max(LOGS_PER_REQUEST),
  /** How many ops of the first one the asker already holds (a cut stopped it there). */
  s: uint,
  /** Op bytes to answer at most (the answer stops at the first frame boundary past it). */
  b: uint.min(MIN_PAGE_BYTES).max(MAX_PAGE_BYTES),
}

/** One answer frame: a conversation's header and the ops from position `s` of its log of `c` ops. */
const frameSchema = z.strictObject({
  ...conversationHeaderFields,
  s: uint,
  c: uint.max(MAX_LINKED_OPS),
  o: z.array(boundedBytes(MAX_OP_BYTES)).max(MAX_LINKED_OPS),
})

// ---------------------------------------------------------------------------------------------- the linking device

/**
 * The conversations of `ids` whose logs we hand to `cert`: a device of our own account that we (or another device of
 * ours) admitted there, not revoked, in a conversation we are still in. Anything else named is left out.
 */
export function servedLogs(kernel: Kernel, cert: DeviceCert, ids: readonly string[]): ConversationRuntime[] {
  if (cert.account !== kernel.identity.account) return []
  const out: ConversationRuntime[] = []
  for (const id of new Set(ids)) {
    const rt = kernel.conversations.get(id as ConversationId)
    if (rt === undefined || rt.record.removed || !rt.log.members.has(kernel.identity.account)) continue
    if (rt.log.revokedDevices.has(cert.device) || rt.log.members.get(cert.account)?.devices.has(cert.device) !== true) continue
    out.push(rt)
  }
  return out
}

/**
 * The answer frames: each conversation in order, its log from position `skip` when it is the first asked for, at most
 * `LOGS_FRAME_BYTES` of ops a frame, until `budget` op bytes went out (then the asker asks again for the rest).
 */
export function* logFrames(list: readonly ConversationRuntime[], firstAsked: string, skip: number, budget: number): Iterable<Uint8Array> {
  let spent = 0
  for (const rt of list) {
    const c = linkedConversation(rt)
    const header = { i: c.id, r: c.root, k: c.kind, n: c.name, t: c.createdAt, l: c.relays, c: c.ops.length }
    let start = c.id === firstAsked ? Math.min(skip, c.ops.length) : 0
    do {
      if (spent >= budget) return
      let end = start
      let size = 0
      while (end < c.ops.length && (end === start || size + c.ops[end]!.length <= LOGS_FRAME_BYTES)) size += c.ops[end++]!.length
      yield encodeCbor({ ...header, s: start, o: c.ops.slice(start, end) })
      // An empty log still costs its frame: the budget always moves.
      spent += Math.max(size, 1)
      start = end
    } while (start < c.ops.length)
  }
}

// ---------------------------------------------------------------------------------------------- the new device

/** The other device sent something no honest device sends: stop asking it. */
class Hostile extends Error {
  override readonly name = 'Hostile'
}

export interface FetchResult {
  /** Conversations whose whole log came and was handed to `take`. */
  fetched: number
  /** Named but not served, or served wrongly. */
  refused: number
  /** Still missing when the fetch stopped (the device went away for good, or the core stopped). */
  missing: number
}

/**
 * Fetches the logs of `ids` (most recently active first) from `peer`, the device that linked this one, handing each
 * whole one to `take` as soon as it is complete. Every answer is checked: only conversations asked for, in the order
 * asked, each log contiguous from where we stood, within MAX_LINKED_OPS ops and MAX_BUNDLE_BYTES in all; `take`
 * itself refuses a log in which this device was not admitted (Devices.importLinked).
 */
export async function fetchLinkedLogs(
  kernel: Kernel,
  peer: string,
  ids: readonly string[],
  take: (c: LinkedConversation) => Promise<void>,
  options: { backoffMs?: number; patienceMs?: number } = {},
): Promise<FetchResult> {
  const { identity, node, counters, log } = kernel
  const remaining = ids.filter((id) => !kernel.conversations.has(id as ConversationId))
  const result: FetchResult = { fetched: 0, refused: 0, missing: 0 }
  let partial: (LinkedConversation & { total: number }) | undefined
  let received = 0
  let failures = 0
  let page = FIRST_PAGE_BYTES
  let lastProgress = Date.now()
  let own: Connection | undefined
  const refuse = (id: string) => {
    remaining.splice(remaining.indexOf(id), 1)
    result.refused++
    counters.count('linked-conversation-refused')
  }

  while (remaining.length > 0 && !kernel.stopped) {
    const asked = remaining.slice(0, LOGS_PER_REQUEST)
    if (partial !== undefined && partial.id !== asked[0]) partial = undefined
    let position = 0
    let progressed = false
    let answered = 0
    try {
      if (own?.status !== 'open') own = await connectionFor(kernel, peer)
      const body = encodeCbor({ v: 1, t: 'logs', c: identity.cert.bytes, i: asked, s: partial?.ops.length ?? 0, b: page })
      for await (const bytes of request(node, peer, RESTORE_PROTOCOL, body, RESTORE_LIMITS, own === undefined ? {} : { connection: own })) {
        const f = checked(() => parseWire(frameSchema, decodeCbor(bytes, Limits.maxFrameBytes, 'linked logs'), 'linked logs'))
        if (answered >= page) throw new Hostile('more than the page asked for')
        const at = asked.indexOf(f.i, position)
        if (at < 0) throw new Hostile('a conversation not asked for, or out of order')
        if (partial?.id !== f.i) {
          // The device moved on: whatever it skipped it does not serve us, and a log it left unfinished is bad.
          if (partial !== undefined) throw new Hostile('a log left unfinished')
          for (const skipped of asked.slice(position, at)) refuse(skipped)
          position = at
          partial = { id: f.i, root: f.r, kind: f.k, name: f.n, createdAt: f.t, relays: f.l, ops: [], total: f.c }
        }
        if (f.s !== partial.ops.length || partial.ops.length + f.o.length > f.c) throw new Hostile('a log out of place')
        // A log may have grown between two requests (ops are only ever appended to it).
        partial.total = f.c
        const size = f.o.reduce((sum, op) => sum + op.length, 0)
        answered += Math.max(size, 1)
        received += size
        if (received > MAX_BUNDLE_BYTES) throw new Hostile('more log bytes than a bundle may hold')
        partial.ops.push(...f.o)
        progressed = true
        if (partial.ops.length === partial.total) {
          const { total: _total, ...whole } = partial
          partial = undefined
          remaining.splice(remaining.indexOf(whole.id), 1)
          position++
          await take(whole)
          result.fetched++
        }
      }
      if (answered < page) {
        // The device had no more to give: a log it left unfinished is bad, and what it did not bring it does not
        // serve us. Else it stopped at the page, and the next request goes on from here.
        if (partial !== undefined) throw new Hostile('a log left unfinished')
        for (const id of asked.slice(position)) if (remaining.includes(id)) refuse(id)
      }
      page = Math.min(MAX_PAGE_BYTES, page * 2)
      failures = 0
      lastProgress = Date.now()
    } catch (err) {
      if (err instanceof Hostile) {
        counters.count('linked-logs-refused')
        log.warn({ err, peer }, 'the device that linked this one sent logs that do not check: not asking it again')
        break
      }
      if (isHearthError(err, 'UNAUTHORIZED') || isHearthError(err, 'UNSUPPORTED_VERSION')) {
        log.warn({ err, peer }, 'the device that linked this one does not hand over the other logs')
        break
      }
      // Cut (a relay's limit: the framing sees the answer end midway), gone for a while, or asked too often: ask
      // again, a smaller page over a fresh connection, from where we stood. Only a device that brings nothing for
      // `patienceMs` is given up on.
      page = Math.max(MIN_PAGE_BYTES, Math.floor(page / 2))
      if (progressed) lastProgress = Date.now()
      else if (Date.now() - lastProgress > (options.patienceMs ?? NO_PROGRESS_MS)) break
      failures = progressed ? 0 : failures + 1
      const base = options.backoffMs ?? 100
      const wait = isHearthError(err, 'RATE_LIMITED') ? 1_000 : Math.min(MAX_BACKOFF_MS, base * 2 ** Math.min(failures, 8))
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
  result.missing = remaining.length
  if (result.missing > 0) log.warn({ peer, missing: result.missing }, 'some linked conversations did not come: they come back by restore')
  return result
}

/**
 * The connection to ask over: a direct one when there is one (it carries anything); else a relayed connection dialled
 * for this request. The relay gives each relayed connection a fresh data limit, and what runs when a peer connects
 * (sync of every shared conversation both ways, own-sync, gossip subscriptions) ran on the connection before and takes
 * most of a small limit: on a connection of its own the request gets what the relay allows.
 */
async function connectionFor(kernel: Kernel, peer: string): Promise<Connection | undefined> {
  const peerId = peerIdFromString(peer)
  const open = kernel.node.libp2p.getConnections(peerId).filter((c) => c.status === 'open')
  const direct = open.find((c) => c.limits === undefined)
  if (direct !== undefined) return direct
  try {
    return await kernel.node.libp2p.dial(peerId, { force: true, signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
  } catch {
    // Not reachable by an address we know: whatever connection there is (the device may have dialled us).
    return open[0]
  }
}

function checked<T>(parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw new Hostile('an unreadable answer', { cause: err })
  }
}
