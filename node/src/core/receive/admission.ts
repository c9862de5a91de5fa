import { isHearthError } from '../../../common/errors.js'
import { toHex } from '../../../common/util/bytes.js'
import {
  openEnvelopeHeader,
  parseEnvelopeFrame,
  verifyEnvelopeSignature,
  verifyEnvelopeSignatureAsync,
  type EnvelopeFrame,
  type OpenedEnvelopeHeader,
} from '../../../common/wire/envelope.js'
import type { EpochKeys } from '../../conversation/epoch-keys.js'
import { mayWrite } from '../../conversation/membership-log.js'
import type { AccountId, DeviceId, EpochId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'

/** Why an envelope was not admitted (also the name it is counted under). */
export type RefusalReason =
  /** Over the frame cap. */
  | 'oversized'
  /** Not an envelope. */
  | 'malformed'
  /** No epoch of this conversation we hold opens its header. */
  | 'wrong-conversation'
  /** The signature does not verify. */
  | 'forged'
  /** Ours (echoed back): not a refusal worth counting. */
  | 'own'
  /** Signed by a device the membership log does not know (yet: its admission may still be on its way). */
  | 'unknown-device'
  /** By a removed member, beyond what it could still write. */
  | 'removed-member'
  /** By a device that may not write at that position. */
  | 'not-a-member'

export type Admitted = { ok: true; frame: EnvelopeFrame; header: OpenedEnvelopeHeader; epoch: EpochId; device: DeviceId; keys: EpochKeys; account: AccountId }
export type Verdict = Admitted | { ok: false; reason: RefusalReason }

type OpenedHeader = { ok: true; frame: EnvelopeFrame; keys: EpochKeys; header: OpenedEnvelopeHeader }

/**
 * The first step of the receive path: is this envelope for one of the conversation's epochs we hold, signed, and by a
 * device the membership log lets write at its position? Nothing of the body is touched here.
 */
export class Admission {
  /** Verdicts of the gossip validator, so the handler that receives the same bytes does not verify them twice. */
  private readonly validated = new WeakMap<Uint8Array, Verdict>()
  /**
   * Signatures already being verified on the thread pool for envelopes `checkAll` will see next (`verifyAhead`), with
   * their opened headers. Only the signature is settled ahead: whether its device may write there is decided by
   * `checkAll` against the log as it is then.
   */
  private readonly ahead = new WeakMap<Uint8Array, { conversation: string; early: Promise<{ opened: OpenedHeader; signed: boolean }> }>()

  constructor(private readonly me: () => DeviceId) {}

  /**
   * One envelope, at once (the gossip validator's path). An admitted envelope's verdict is remembered for the same
   * bytes; a refusal is not, because the log may admit its device by the time the bytes are ingested.
   */
  check(rt: ConversationRuntime, data: Uint8Array): Verdict {
    const opened = openHeader(rt, data)
    if (!opened.ok) return opened
    const verdict: Verdict = verifyEnvelopeSignature(opened.frame, opened.header) ? this.admit(rt, opened) : { ok: false, reason: 'forged' }
    if (verdict.ok) this.validated.set(data, verdict)
    return verdict
  }

  /**
   * `check` for a batch (a sync page): the signatures are verified on the thread pool, all at once, so the main thread
   * only opens headers. Verdicts the gossip validator already reached are reused.
   */
  checkAll(rt: ConversationRuntime, data: Uint8Array[]): Promise<Verdict[]> {
    return Promise.all(
      data.map(async (bytes): Promise<Verdict> => {
        const cached = this.validated.get(bytes)
        if (cached !== undefined) return cached
        const ahead = this.ahead.get(bytes)
        // Opened with this conversation's keys: the same bytes checked for another conversation are judged afresh.
        if (ahead !== undefined && ahead.conversation === rt.id) {
          this.ahead.delete(bytes)
          const { opened, signed } = await ahead.early
          return signed ? this.admit(rt, opened) : { ok: false, reason: 'forged' }
        }
        const opened = openHeader(rt, bytes)
        if (!opened.ok) return opened
        if (!(await verifyEnvelopeSignatureAsync(opened.frame, opened.header))) return { ok: false, reason: 'forged' }
        return this.admit(rt, opened)
      }),
    )
  }

  /**
   * Starts verifying the signatures of envelopes that are about to be checked (the next page of a sync), so the
   * thread pool works on them while the main thread processes the page before. Envelopes whose header does not open
   * now are left for `checkAll` to judge in full. An epoch's keys never change (its id is a hash of its secret), so a
   * header opened now reads the same later.
   */
  verifyAhead(rt: ConversationRuntime, data: readonly Uint8Array[]): void {
    for (const bytes of data) {
      if (this.validated.has(bytes) || this.ahead.has(bytes)) continue
      const opened = openHeader(rt, bytes)
      if (!opened.ok) continue
      const early = verifyEnvelopeSignatureAsync(opened.frame, opened.header).then((signed) => ({ opened, signed }))
      // Awaited by checkAll when the page comes; a sync that ends first (its peer went away) never awaits it.
      early.catch(() => {})
      this.ahead.set(bytes, { conversation: rt.id, early })
    }
  }

  /** After a good signature: is the signer a device that may write here at this position? */
  private admit(rt: ConversationRuntime, { frame, keys, header }: OpenedHeader): Verdict {
    const device = toHex(header.device) as DeviceId
    if (device === this.me()) return { ok: false, reason: 'own' }
    const cert = rt.log.knownDevices.get(device)
    if (cert === undefined) return { ok: false, reason: 'unknown-device' }
    if (header.seq !== 0 && !mayWrite(rt.log, keys.id, device, header.seq, cert.account)) {
      return { ok: false, reason: rt.log.removed.has(cert.account) ? 'removed-member' : 'not-a-member' }
    }
    if (header.seq === 0 && !rt.log.members.has(cert.account)) return { ok: false, reason: 'removed-member' }
    return { ok: true, frame, header, epoch: keys.id, device, keys, account: cert.account }
  }
}

/** Parses the frame and opens its header (not yet trusting it: the signature is checked next). */
function openHeader(rt: ConversationRuntime, data: Uint8Array): OpenedHeader | { ok: false; reason: RefusalReason } {
  let frame: EnvelopeFrame
  try {
    frame = parseEnvelopeFrame(data)
  } catch (err) {
    return { ok: false, reason: isHearthError(err, 'TOO_LARGE') ? 'oversized' : 'malformed' }
  }
  const keys = rt.epochs.get(toHex(frame.epochTag) as EpochId)
  if (keys === undefined) return { ok: false, reason: 'wrong-conversation' }
  try {
    return { ok: true, frame, keys, header: openEnvelopeHeader(frame, keys.envelope.headerKey, { verifySignature: false }) }
  } catch {
    return { ok: false, reason: 'wrong-conversation' }
  }
}
