import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { signingKeyPairFromSeed } from '../../../common/crypto/ed25519.js'
import {
  checkCommitment,
  checkE,
  checkN,
  commitNonce,
  confirmationCode,
  openAccount,
  PAIR_NONCE_BYTES,
  pairingKeys,
  proveE,
  proveN,
  sealAccount,
  type PairingKeys,
} from '../../../common/crypto/pairing.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import type { HearthNode } from '../../../common/net/create-node.js'
import type { Stream } from '@libp2p/interface'
import { decodeDeviceCert, type DeviceCert } from '../../identity/device-cert.js'
import type { LinkCode } from '../../identity/link-code.js'
import { accountIdOf } from '../../ids.js'
import { BUNDLE_FRAME_BYTES, BUNDLE_WINDOW_BYTES, frameBytes, PairChannel, SMALL_FRAME_BYTES } from './pair-channel.js'
import {
  conversationFrames,
  decodeAccount,
  DIRECT_BUNDLE_BYTES,
  encodeAccount,
  expectFrame,
  Frames,
  LIMITED_BUNDLE_BYTES,
  MAX_BUNDLE_BYTES,
  MAX_LINKED_CONVERSATIONS,
  MAX_LINKED_OPS,
  MAX_REST_IDS_PER_FRAME,
  PeerFailed,
  type AccountSecrets,
  type FailReason,
  type LinkedConversation,
} from './pair-frames.js'

export type { AccountSecrets, LinkedConversation } from './pair-frames.js'

/**
 * Linking a device (docs/PROTOCOL.md, "Linking a device"). The new device N offers: it shows a link code and serves
 * this protocol; the existing device E dials the code's locator and the two run, one stream, in turns:
 *
 *   E→N hello{proof E, commitment to E's nonce}   N→E hello{proof N, N's nonce}   E→N reveal{E's nonce}
 *   both show the confirmation code and ask their person;  N→E ready | cancel;  E→N sealed{account} | cancel
 *   N→E device{certificate}   E→N conv…, rest…, end   N→E done
 *
 * N answers only a good proof, counts bad ones and burns the offer after 5; the first good proof consumes it. E
 * sends the account only once its own person confirmed and N said ready, and admits only a certificate of its own
 * account for the PeerId at the other end of this connection. Crypto: common/crypto/pairing.ts.
 *
 * The whole exchange fits one relayed connection (the relay cuts one after its data limit): E puts in the pairing only
 * the logs that fit a budget (LIMITED_BUNDLE_BYTES over a relay) and names the other conversations in `rest`; N's core
 * fetches their logs afterwards over fresh connections (restore.ts `logs`, devices/linked-logs.ts).
 */
export const PAIR_PROTOCOL = '/hearth/pair/1.0.0'

export interface PairOfferHandlers {
  onConfirmationCode(code: string): void
  confirm(): Promise<boolean>
  makeDevice(account: AccountSecrets): Promise<Uint8Array>
  /**
   * The conversations whose logs came whole, and the ids (32 hex, most recently active first) of those to fetch
   * afterwards from `peer`, the device that linked this one (the PeerId this connection authenticated).
   */
  onConversations(list: LinkedConversation[], pending: string[], peer: string): Promise<void>
  count?(reason: string): void
}

export interface PairDialHandlers {
  account: AccountSecrets
  onConfirmationCode(code: string): void
  confirm(): Promise<boolean>
  admit(cert: DeviceCert): Promise<LinkedConversation[]>
  count?(reason: string): void
}

export interface PairTiming {
  /** The whole exchange, from the stream opening to `done`. */
  exchangeMs: number
  /** Any one frame the other device sends without waiting for a person. */
  stepMs: number
  /** A person's answer to the confirmation code (own or the other device's). */
  personMs: number
}

export const PAIR_TIMING: PairTiming = { exchangeMs: 10 * 60_000, stepMs: 30_000, personMs: 3 * 60_000 }
/** setTimeout fires at once for a longer delay (it is 32-bit); an offer meant to last longer ends after ~24 days. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** Hellos that fail to prove the secret before an offer is burnt. */
export const MAX_BAD_PROOFS = 5

/** Person-facing words; the codes stay machine-readable. */
export const PairMessages = {
  wrong: 'The code was wrong or has expired',
  burnt: 'The code was tried wrongly too many times: show a new one',
  expired: 'The link code has expired: show a new one',
  otherCancelled: 'The other device cancelled',
  cancelled: 'Linking was cancelled',
  replaced: 'A newer link code replaced this one',
  timeout: 'The link timed out',
  gone: 'The other device went away before linking finished',
  badCert: 'The other device refused this device',
  confused: 'The other device sent something unexpected: try again',
  unreachable: 'The new device could not be reached: check both are on the same network, or online',
} as const

// ---------------------------------------------------------------------------------------------- N: the offer

/** The offer each node serves, so a new one can end it and an old one never removes a newer one's handler. */
const offers = new WeakMap<object, { end(err: HearthError): void }>()

/** N side: serves the protocol until one exchange ends (or the offer expires, is burnt or cancelled). */
export function offerPairing(
  node: HearthNode,
  opts: { secret: string; expiresAt: number; handlers: PairOfferHandlers; timing?: Partial<PairTiming> },
): { done: Promise<void>; cancel(): void; ready: Promise<void> } {
  const { secret, expiresAt, handlers } = opts
  const timing = { ...PAIR_TIMING, ...opts.timing }
  const count = (reason: string) => handlers.count?.(reason)
  const stop = new AbortController()
  let state: 'open' | 'busy' | 'over' = 'open'
  let badProofs = 0
  let settle!: { resolve: () => void; reject: (err: unknown) => void }
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
  done.catch(() => {}) // the caller may only cancel; the outcome is still there for whoever awaits it

  const finish = (err?: HearthError): void => {
    if (state === 'over') return
    state = 'over'
    clearTimeout(expiry)
    stop.abort(err ?? new HearthError('INTERNAL', 'offer over'))
    if (offers.get(node.libp2p) === me) offers.delete(node.libp2p)
    // Unless a newer offer took the protocol over meanwhile (its handler replaced ours): then it is not ours to remove.
    ready.then(() => (offers.has(node.libp2p) ? undefined : node.libp2p.unhandle(PAIR_PROTOCOL))).catch(() => {})
    if (err === undefined) settle.resolve()
    else settle.reject(err)
  }
  const me = { end: finish }
  // One link code at a time per device: a new offer ends the one before (its code stops working).
  offers.get(node.libp2p)?.end(new HearthError('LINK_CANCELLED', PairMessages.replaced))
  offers.set(node.libp2p, me)
  const expiry = setTimeout(() => {
    if (state === 'open') finish(new HearthError('LINK_EXPIRED', PairMessages.expired))
  }, Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - Date.now())))

  const serve = async (stream: Stream, peerE: string): Promise<void> => {
    const ch = new PairChannel(stream, AbortSignal.any([stop.signal, AbortSignal.timeout(timing.exchangeMs)]))
    if (state === 'open' && Date.now() >= expiresAt) finish(new HearthError('LINK_EXPIRED', PairMessages.expired))
    if (state !== 'open') return ch.sendLast({ t: 'fail', w: 'used' })
    let keys: PairingKeys
    let hello
    try {
      hello = expectFrame(Frames.helloE, await ch.read(SMALL_FRAME_BYTES, timing.stepMs), 'pairing hello')
      keys = pairingKeys(secret, peerE, node.peerId)
    } catch (err) {
      // A peer that sent nothing in time proved nothing either way; anything else it sent counts as a guess.
      if (isHearthError(err, 'TIMEOUT') || isHearthError(err, 'UNREACHABLE')) return ch.abort()
      return badProof(ch)
    }
    if (!checkE(keys, hello.p)) return badProof(ch)
    if (state !== 'open') return ch.sendLast({ t: 'fail', w: 'used' })
    state = 'busy' // single use: from here on every other dialer is refused, whatever happens to this exchange
    try {
      await runOffer(ch, keys, hello.c, handlers, timing, peerE)
      await ch.close()
      finish()
    } catch (err) {
      // Cancelled here (the offer is already settled): tell E. Ended by E: nothing to tell it.
      if (stop.signal.aborted) await ch.sendLast({ t: 'cancel' })
      else if (err instanceof PeerFailed) ch.abort()
      else await ch.sendLast({ t: 'fail', w: failReason(err) })
      finish(inWords(err))
    }
  }

  const badProof = async (ch: PairChannel): Promise<void> => {
    count('pair-bad-proof')
    badProofs++
    await ch.sendLast({ t: 'fail', w: 'wrong-code' })
    if (badProofs >= MAX_BAD_PROOFS) finish(new HearthError('LINK_INVALID', PairMessages.burnt))
  }

  const ready = node.libp2p.handle(
    PAIR_PROTOCOL,
    (stream, connection) => {
      serve(stream, connection.remotePeer.toString()).catch(() => stream.abort(new Error('pairing failed')))
    },
    // A relayed connection is how a device behind NAT is reached; the exchange is small until the bundle.
    { maxInboundStreams: 4, runOnLimitedConnection: true, force: true },
  )
  ready.catch((err: unknown) => finish(new HearthError('INTERNAL', 'could not offer pairing', { cause: err })))
  return {
    done,
    ready,
    cancel: () => finish(new HearthError('LINK_CANCELLED', PairMessages.cancelled)),
  }
}

/** N's side of an exchange whose hello proved the secret. */
async function runOffer(ch: PairChannel, keys: PairingKeys, commitment: Uint8Array, h: PairOfferHandlers, timing: PairTiming, peerE: string): Promise<void> {
  const nonceN = randomBytes(PAIR_NONCE_BYTES)
  await ch.send({ t: 'hello', v: 1, p: proveN(keys), n: nonceN })
  const { n: nonceE } = expectFrame(Frames.reveal, await ch.read(SMALL_FRAME_BYTES, timing.stepMs), 'pairing reveal')
  if (!checkCommitment(keys, commitment, nonceE)) throw new HearthError('PROTOCOL_ERROR', 'nonce does not match its commitment')
  h.onConfirmationCode(confirmationCode(keys, nonceE, nonceN))
  // E may only cancel while our person decides; its account comes after our `ready`, within E's person's time.
  let saidReady = false
  const incoming = ch.read(SMALL_FRAME_BYTES, timing.personMs).then((v) => {
    const frame = expectFrame(Frames.sealed, v, 'pairing account')
    if (!saidReady) throw new HearthError('PROTOCOL_ERROR', 'account sent before this device was ready')
    return frame
  })
  incoming.catch(() => {})
  const ok = await Promise.race([personAnswer(local(() => h.confirm()), timing.personMs), incoming.then(() => true)])
  if (!ok) throw new OwnCancel()
  saidReady = true
  await ch.send({ t: 'ready' })
  const box = (await incoming).b
  let account: AccountSecrets
  try {
    account = decodeAccount(openAccount(keys, box))
  } catch (err) {
    throw new HearthError('PROTOCOL_ERROR', 'the account did not open', { cause: err })
  }
  const cert = await local(() => h.makeDevice(account))
  await ch.send({ t: 'device', c: cert })
  const { list, pending } = await readBundle(ch, timing)
  await local(() => h.onConversations(list, pending, peerE))
  await ch.send({ t: 'done' })
}

/**
 * The conversations E sends, each checked against its schema, within the bundle's bounds, and the ids of those it
 * named to fetch afterwards (never one twice, never more than MAX_LINKED_CONVERSATIONS in all).
 */
async function readBundle(ch: PairChannel, timing: PairTiming): Promise<{ list: LinkedConversation[]; pending: string[] }> {
  const list: LinkedConversation[] = []
  const pending: string[] = []
  const seen = new Set<string>()
  let total = 0
  for (;;) {
    const value = await ch.read(BUNDLE_FRAME_BYTES, timing.stepMs)
    const t = typeof value === 'object' && value !== null ? (value as { t?: unknown }).t : undefined
    if (t === 'end') {
      const end = expectFrame(Frames.end, value, 'pairing end')
      if (end.c !== list.length || (end.p ?? 0) !== pending.length) throw new HearthError('PROTOCOL_ERROR', 'bundle ended with a different count')
      return { list, pending }
    }
    if (t === 'rest') {
      for (const raw of expectFrame(Frames.rest, value, 'pairing rest').i) {
        const id = Buffer.from(raw).toString('hex')
        if (seen.has(id)) throw new HearthError('PROTOCOL_ERROR', 'a conversation sent twice')
        if (seen.size >= MAX_LINKED_CONVERSATIONS) throw new HearthError('TOO_LARGE', 'too many conversations')
        seen.add(id)
        pending.push(id)
      }
      await ch.send({ t: 'ack' })
      continue
    }
    // Whole logs come first: a log after the list of those to fetch would be out of the order E chose.
    if (pending.length > 0) throw new HearthError('PROTOCOL_ERROR', 'a conversation after the list of those to fetch')
    let ops: Uint8Array[]
    if (t === 'ops') {
      ops = expectFrame(Frames.more, value, 'pairing ops').o
      const last = list.at(-1)
      if (last === undefined) throw new HearthError('PROTOCOL_ERROR', 'operations before any conversation')
      if (last.ops.length + ops.length > MAX_LINKED_OPS) throw new HearthError('TOO_LARGE', 'too many operations in a conversation')
      last.ops.push(...ops)
    } else {
      const c = expectFrame(Frames.conv, value, 'pairing conversation')
      if (seen.size >= MAX_LINKED_CONVERSATIONS) throw new HearthError('TOO_LARGE', 'too many conversations')
      if (seen.has(c.i)) throw new HearthError('PROTOCOL_ERROR', 'a conversation sent twice')
      seen.add(c.i)
      ops = c.o
      list.push({ id: c.i, root: c.r, kind: c.k, name: c.n, createdAt: c.a, relays: c.y, ops: [...c.o] })
    }
    total += ops.reduce((sum, op) => sum + op.length, 0)
    if (total > MAX_BUNDLE_BYTES) throw new HearthError('TOO_LARGE', 'conversation bundle too large')
    await ch.send({ t: 'ack' })
  }
}

// ---------------------------------------------------------------------------------------------- E: the dialer

/** E side: dials the code's locator, runs the exchange, returns the new device's certificate. */
export async function pairWith(
  node: HearthNode,
  code: LinkCode,
  handlers: PairDialHandlers,
  opts: { signal?: AbortSignal; timing?: Partial<PairTiming>; bundleBytes?: number } = {},
): Promise<DeviceCert> {
  const timing = { ...PAIR_TIMING, ...opts.timing }
  const count = (reason: string) => handlers.count?.(reason)
  const deadline = AbortSignal.timeout(timing.exchangeMs)
  const signal = opts.signal === undefined ? deadline : AbortSignal.any([deadline, opts.signal])
  const accountSeed = handlers.account.accountSeed
  const account = accountIdOf(signingKeyPairFromSeed(accountSeed).publicKey)
  const sealedAccount = encodeAccount(handlers.account) // refuses a malformed account before anything is sent

  let reached: Awaited<ReturnType<typeof open>>
  try {
    reached = await open(node, multiaddr(code.locator), signal)
  } catch (err) {
    if (opts.signal?.aborted === true) throw new HearthError('LINK_CANCELLED', PairMessages.cancelled, { cause: err })
    throw err
  }
  const { stream, peerN, budget } = reached
  const ch = new PairChannel(stream, signal)
  try {
    const keys = pairingKeys(code.secret, node.peerId, peerN)
    const nonceE = randomBytes(PAIR_NONCE_BYTES)
    await ch.send({ t: 'hello', v: 1, p: proveE(keys), c: commitNonce(keys, nonceE) })
    const hello = expectFrame(Frames.helloN, await ch.read(SMALL_FRAME_BYTES, timing.stepMs), 'pairing hello')
    if (!checkN(keys, hello.p)) {
      // Whoever answers at this address does not hold the code: not the device showing it.
      count('pair-bad-proof')
      throw new PeerFailed('wrong-code')
    }
    await ch.send({ t: 'reveal', n: nonceE })
    handlers.onConfirmationCode(confirmationCode(keys, nonceE, hello.n))
    const peerReady = ch.read(SMALL_FRAME_BYTES, timing.personMs).then((v) => expectFrame(Frames.ready, v, 'pairing ready'))
    peerReady.catch(() => {})
    const own = personAnswer(local(() => handlers.confirm()), timing.personMs)
    own.catch(() => {})
    // The account goes only when both people said yes; whichever answers first, wait for the other.
    if (!(await Promise.race([own, peerReady.then(() => own)]))) throw new OwnCancel()
    await peerReady
    await ch.send({ t: 'sealed', b: sealAccount(keys, sealedAccount) })
    const { c: certBytes } = expectFrame(Frames.device, await ch.read(SMALL_FRAME_BYTES, timing.stepMs), 'pairing device')
    let cert: DeviceCert
    try {
      cert = decodeDeviceCert(certBytes)
    } catch (err) {
      count('pair-bad-cert')
      throw new BadCert(err)
    }
    if (cert.account !== account || cert.peerId !== peerN) {
      count('pair-bad-cert')
      throw new BadCert()
    }
    const list = await local(() => handlers.admit(cert))
    await sendBundle(ch, list, opts.bundleBytes ?? budget, timing)
    expectFrame(Frames.done, await ch.read(SMALL_FRAME_BYTES, timing.stepMs), 'pairing done')
    await ch.close()
    return cert
  } catch (err) {
    const own = opts.signal?.aborted === true || err instanceof OwnCancel
    if (!(err instanceof PeerFailed)) await ch.sendLast(own ? { t: 'cancel' } : { t: 'fail', w: failReason(err) })
    else ch.abort()
    throw own ? new HearthError('LINK_CANCELLED', PairMessages.cancelled, { cause: err }) : inWords(err)
  }
}

/**
 * The conversations (most recently active first) as frames while their logs stay within `budget` op bytes, the ids
 * of the others in `rest` frames, never more than BUNDLE_WINDOW_BYTES ahead of N's acknowledgements, then `end`.
 */
async function sendBundle(ch: PairChannel, list: LinkedConversation[], budget: number, timing: PairTiming): Promise<void> {
  const unacked: number[] = []
  let inFlight = 0
  const ack = async () => {
    expectFrame(Frames.ack, await ch.read(SMALL_FRAME_BYTES, timing.stepMs), 'pairing ack')
    inFlight -= unacked.shift()!
  }
  const send = async (frame: Record<string, unknown>) => {
    const bytes = frameBytes(frame)
    while (unacked.length > 0 && inFlight + bytes.length > BUNDLE_WINDOW_BYTES) await ack()
    await ch.sendBytes(bytes)
    unacked.push(bytes.length)
    inFlight += bytes.length
  }
  // Whole logs in order until the first that does not fit: the order stays newest first across both parts.
  let whole = 0
  let spent = 0
  for (const c of list) {
    const size = c.ops.reduce((sum, op) => sum + op.length, 0)
    if (spent + size > budget) break
    spent += size
    whole++
  }
  for (const c of list.slice(0, whole)) for (const frame of conversationFrames(c)) await send(frame)
  const rest = list.slice(whole).map((c) => Buffer.from(c.id, 'hex'))
  for (let i = 0; i < rest.length; i += MAX_REST_IDS_PER_FRAME) await send({ t: 'rest', i: rest.slice(i, i + MAX_REST_IDS_PER_FRAME) })
  while (unacked.length > 0) await ack()
  await ch.send(rest.length === 0 ? { t: 'end', c: whole } : { t: 'end', c: whole, p: rest.length })
}

/** Op bytes of the logs that go in the pairing over a connection: a relayed one carries little (pair-frames.ts). */
function bundleBudget(limits: { bytes?: bigint } | undefined): number {
  return limits === undefined ? DIRECT_BUNDLE_BYTES : LIMITED_BUNDLE_BYTES
}

/** Connects to the locator (a circuit without its relay's PeerId learns that first) and opens the stream. */
async function open(node: HearthNode, address: Multiaddr, signal: AbortSignal) {
  const dial = async (ma: Multiaddr) => {
    try {
      return await node.libp2p.dial(ma, { signal })
    } catch (err) {
      if (signal.aborted) throw new HearthError('TIMEOUT', PairMessages.timeout, { cause: err })
      throw new HearthError('UNREACHABLE', PairMessages.unreachable, { cause: err })
    }
  }
  const text = address.toString()
  const circuit = text.indexOf('/p2p-circuit')
  let target = address
  // A code naming a relay circuit still links directly when the new device is nearby (found on the LAN): a relayed
  // connection is limited in time and bytes by the relay (LIMITS.md), a direct one is not.
  const connection = (circuit >= 0 ? await dialNearby(node, text, signal) : undefined) ?? (await (async () => {
    if (circuit >= 0 && !text.slice(0, circuit).includes('/p2p/')) {
      const relay = await dial(multiaddr(text.slice(0, circuit)))
      target = multiaddr(`${text.slice(0, circuit)}/p2p/${relay.remotePeer.toString()}${text.slice(circuit)}`)
    }
    return dial(target)
  })())
  const peerN = connection.remotePeer.toString()
  if (peerN === node.peerId) throw new HearthError('INVALID_INPUT', 'This link code was made on this device: scan it with another one.')
  try {
    const stream = await connection.newStream(PAIR_PROTOCOL, { signal, runOnLimitedConnection: true })
    return { stream, peerN, budget: bundleBudget(connection.limits) }
  } catch (err) {
    if (signal.aborted) throw new HearthError('TIMEOUT', PairMessages.timeout, { cause: err })
    // The device at the address no longer offers (the code was used, cancelled, burnt or expired).
    throw new HearthError('LINK_INVALID', PairMessages.wrong, { cause: err })
  }
}

/** A direct connection to the circuit's target when this node knows a direct address of it (mDNS), else undefined. */
async function dialNearby(node: HearthNode, circuitText: string, signal: AbortSignal) {
  const target = /\/p2p-circuit\/p2p\/([^/]+)$/.exec(circuitText)?.[1]
  if (target === undefined) return undefined
  try {
    const peer = peerIdFromString(target)
    const known = await node.libp2p.peerStore.get(peer)
    for (const { multiaddr: ma } of known.addresses) {
      if (ma.toString().includes('/p2p-circuit')) continue
      try {
        return await node.libp2p.dial(ma.encapsulate(`/p2p/${target}`), { signal })
      } catch {
        // that address did not answer: the next, then the relay
      }
    }
  } catch {
    // not a PeerId, or nothing known of it: the relay it is
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------- shared

/** Our own person said no. */
class OwnCancel extends Error {
  override readonly name = 'OwnCancel'
}

/** The other device's certificate is not one we admit. */
class BadCert extends Error {
  override readonly name = 'BadCert'
  constructor(cause?: unknown) {
    super('the new device sent a certificate that is not for this account and connection', cause === undefined ? undefined : { cause })
  }
}

/** A handler's failure, kept apart from the other device's: it is ours to report as it is. */
class LocalFailure extends Error {
  override readonly name = 'LocalFailure'
}

async function local<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    throw new LocalFailure('a local step of linking failed', { cause: err })
  }
}

/** A person's yes or no, or a timeout when they leave the question open too long. */
async function personAnswer(answer: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      answer,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HearthError('TIMEOUT', PairMessages.timeout)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** What we tell the other device when we end the exchange on our side. */
function failReason(err: unknown): FailReason {
  if (err instanceof OwnCancel) return 'cancelled'
  if (err instanceof BadCert) return 'bad-cert'
  if (err instanceof LocalFailure) return 'internal'
  if (isHearthError(err, 'TIMEOUT')) return 'timeout'
  return 'protocol'
}

/** Any failure as a HearthError a person can read; a local handler's own error passes through unchanged. */
function inWords(err: unknown): HearthError {
  if (err instanceof LocalFailure) {
    const cause = err.cause
    return isHearthError(cause) ? cause : new HearthError('INTERNAL', 'Linking failed on this device', { cause })
  }
  if (err instanceof OwnCancel) return new HearthError('LINK_CANCELLED', PairMessages.cancelled)
  if (err instanceof BadCert) return new HearthError('PROTOCOL_ERROR', PairMessages.confused, { cause: err })
  if (err instanceof PeerFailed) {
    switch (err.reason) {
      case 'wrong-code':
      case 'used':
      case 'expired':
        return new HearthError('LINK_INVALID', PairMessages.wrong, { cause: err })
      case 'cancelled':
        return new HearthError('LINK_CANCELLED', PairMessages.otherCancelled, { cause: err })
      case 'timeout':
        return new HearthError('TIMEOUT', PairMessages.timeout, { cause: err })
      case 'bad-cert':
        return new HearthError('PROTOCOL_ERROR', PairMessages.badCert, { cause: err })
      case 'protocol':
      case 'internal':
        return new HearthError('PROTOCOL_ERROR', PairMessages.confused, { cause: err })
    }
  }
  if (isHearthError(err)) {
    if (err.code === 'TIMEOUT') return new HearthError('TIMEOUT', PairMessages.timeout, { cause: err })
    if (err.code === 'UNREACHABLE') return new HearthError('UNREACHABLE', PairMessages.gone, { cause: err })
    if (err.code === 'LINK_INVALID' || err.code === 'LINK_EXPIRED' || err.code === 'LINK_CANCELLED') return err
  }
  return new HearthError('PROTOCOL_ERROR', PairMessages.confused, { cause: err })
}
