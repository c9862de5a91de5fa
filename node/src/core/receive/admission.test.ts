import { beforeAll, describe, expect, it } from 'vitest'
import { encodeHlc, hlcNow, HLC_ZERO } from '../../../../crdt/src/index.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { advance, newChain } from '../../../common/crypto/sender-chain.js'
import { toBase64Url, toHex } from '../../../common/util/bytes.js'
import { EnvelopeKind } from '../../../common/wire/envelope.js'
import { deriveEpochKeys, type EpochKeys } from '../../conversation/epoch-keys.js'
import { computeLog } from '../../conversation/membership-log.js'
import { signOp } from '../../conversation/membership-op.js'
import { createIdentity, type Identity } from '../../identity/identity.js'
import type { ConversationId, DeviceId } from '../../ids.js'
import type { OwnChain } from '../../store/core-store.js'
import { newRecord } from '../conversation-loader.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import { sealEpoch } from '../membership/membership-engine.js'
import { sealOwn } from '../send/own-stream.js'
import { Admission, type Verdict } from './admission.js'

let alice: Identity
let carol: Identity
let rt: ConversationRuntime
const secret = randomBytes(32)
const keys = deriveEpochKeys(secret)

beforeAll(async () => {
  alice = (await createIdentity('Alice', Date.now())).identity
  carol = (await createIdentity('Carol', Date.now())).identity
  const id = toHex(randomBytes(16)) as ConversationId
  const create = signOp({
    conversation: id,
    prev: [],
    hlc: encodeHlc(hlcNow(HLC_ZERO, Date.now())),
    author: alice.cert,
    deviceSeed: alice.deviceKey.seed,
    body: { type: 'create', kind: 'group', name: 'Family', epoch: { id: keys.id, seals: [{ device: alice.deviceId, box: sealEpoch(id, keys.id, secret, alice.cert.dhPublic) }] } },
  })
  const log = computeLog([create], create.hash)!
  rt = {
    id,
    record: newRecord(Date.now(), { id, root: create.hash, kind: 'group', name: 'Family' }),
    ops: new Map([[create.hash, create]]),
    log,
    epochs: new Map([[keys.id, keys]]),
    streams: new Map(),
    own: new Map(),
    shards: new Map(),
    topics: new Set(),
  }
})

function chain(): OwnChain {
  const c = newChain()
  return { initialKey: toBase64Url(c.chainKey), cursorKey: toBase64Url(advance(c).chainKey), next: 1, messages: 0, sentTo: [], delivered: 0 }
}
const envelope = (by: Identity, epochKeys: EpochKeys = keys) => sealOwn(by, epochKeys, chain(), EnvelopeKind.content, new Uint8Array([1, 2, 3])).bytes
const reasonOf = (v: Verdict) => (v.ok ? 'ok' : v.reason)
const someoneElse = () => toHex(randomBytes(32)) as DeviceId

describe('Admission', () => {
  it("admits a member's signed envelope, naming its device, epoch and account", () => {
    const verdict = new Admission(someoneElse).check(rt, envelope(alice))
    expect(verdict.ok).toBe(true)
    if (!verdict.ok) return
    expect(verdict).toMatchObject({ device: alice.deviceId, epoch: keys.id, account: alice.account })
    expect(verdict.header.seq).toBe(1)
  })

  it('refuses with a typed reason: own, unknown device, forged, malformed, another epoch', () => {
    const forged = envelope(alice)
    forged[forged.length - 1]! ^= 1
    const cases: Array<[string, Uint8Array, Admission]> = [
      ['own', envelope(alice), new Admission(() => alice.deviceId)],
      ['unknown-device', envelope(carol), new Admission(someoneElse)],
      ['forged', forged, new Admission(someoneElse)],
      ['malformed', randomBytes(40), new Admission(someoneElse)],
      ['wrong-conversation', envelope(alice, deriveEpochKeys(randomBytes(32))), new Admission(someoneElse)],
    ]
    for (const [reason, bytes, admission] of cases) expect(reasonOf(admission.check(rt, bytes)), reason).toBe(reason)
  })

  it('checkAll reaches the same verdicts as check, for a batch', async () => {
    const admission = new Admission(someoneElse)
    const batch = [envelope(alice), envelope(carol), randomBytes(10), envelope(alice)]
    const all = await admission.checkAll(rt, batch)
    expect(all.map(reasonOf)).toEqual(batch.map((b) => reasonOf(new Admission(someoneElse).check(rt, b))))
    expect(all.map(reasonOf)).toEqual(['ok', 'unknown-device', 'malformed', 'ok'])
  })

  it('a page verified ahead gets the verdicts of the log as it is when checked, and forgeries stay refused', async () => {
    const admission = new Admission(someoneElse)
    const forged = envelope(alice)
    forged[forged.length - 1]! ^= 1
    const batch = [envelope(alice), forged, envelope(carol), randomBytes(10), envelope(alice, deriveEpochKeys(randomBytes(32)))]
    admission.verifyAhead(rt, batch)
    // Between the read-ahead and the check, the log changed: alice's device is no longer one it knows.
    const later: ConversationRuntime = { ...rt, log: { ...rt.log, knownDevices: new Map() } }
    expect((await admission.checkAll(later, batch)).map(reasonOf)).toEqual(['unknown-device', 'forged', 'unknown-device', 'malformed', 'wrong-conversation'])
  })

  it('checkAll uses the headers opened and the signatures verified ahead, once', async () => {
    const admission = new Admission(someoneElse)
    const batch = [envelope(alice), envelope(alice)]
    admission.verifyAhead(rt, batch)
    // Without the epoch's keys the headers could not be opened again: the verdicts come from the work done ahead.
    const keyless: ConversationRuntime = { ...rt, epochs: new Map() }
    expect((await admission.checkAll(keyless, batch)).map(reasonOf)).toEqual(['ok', 'ok'])
    // Used once: the same bytes checked again are judged afresh.
    expect((await admission.checkAll(keyless, batch)).map(reasonOf)).toEqual(['wrong-conversation', 'wrong-conversation'])
  })

  it('work done ahead for one conversation is not taken for another', async () => {
    const admission = new Admission(someoneElse)
    const batch = [envelope(alice)]
    admission.verifyAhead(rt, batch)
    const elsewhere: ConversationRuntime = { ...rt, id: toHex(randomBytes(16)) as ConversationId, epochs: new Map() }
    expect((await admission.checkAll(elsewhere, batch)).map(reasonOf)).toEqual(['wrong-conversation'])
    expect((await admission.checkAll(rt, batch)).map(reasonOf)).toEqual(['ok'])
  })
})
