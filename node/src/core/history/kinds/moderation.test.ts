import { describe, expect, it } from 'vitest'
import { applyRemoteChanges, createShard, deleteAsAdmin, sendMessage, type ActorId } from '../../../../../crdt/src/index.js'
import type { DeviceCert } from '../../../identity/device-cert.js'
import type { ConversationRuntime } from '../../conversation-runtime.js'
import { moderationVerdict } from './moderation.js'

const ALICE = 'a1'.repeat(16) as ActorId
const BOB = 'b2'.repeat(16) as ActorId
const CAROL = 'c3'.repeat(16) as ActorId
const account = (actor: string) => actor.slice(0, 2).repeat(32)
const device = (actor: string) => actor.slice(0, 2).repeat(16) + 'dd'.repeat(16)
const certs = new Map([ALICE, BOB, CAROL].map((a) => [a as string, { account: account(a), device: device(a) } as unknown as DeviceCert]))
const certOf = (_rt: ConversationRuntime, actor: string) => certs.get(actor)
const id = '0'.repeat(31) + '1'

/** A shard where Bob wrote a message and each of `markers` marked it deleted as an admin. */
function marked(markers: ActorId[]) {
  const sent = sendMessage(createShard(BOB), BOB, { id: id as never, body: 'spam', hlc: { wall: 1_700_000_000_000, counter: 0 }, seq: 0 })
  let doc = sent.doc
  for (const m of markers) {
    const mark = deleteAsAdmin(applyRemoteChanges(createShard(m), [sent.change]).doc, m, { target: { author: BOB, id: id as never } })
    doc = applyRemoteChanges(doc, [mark.change]).doc
  }
  return doc
}

function runtime(kind: 'group' | 'direct', admins: ActorId[]): ConversationRuntime {
  const members = new Map(
    [ALICE, BOB, CAROL].map((a) => [account(a), { role: admins.includes(a) ? 'admin' : 'member', devices: new Map([[device(a), certs.get(a)]]) }]),
  )
  return { log: { kind, members } } as unknown as ConversationRuntime
}

describe('moderationVerdict: the membership log decides whether an admin-delete mark counts', () => {
  const target = { author: BOB, id }

  it("honours an admin's mark and names the admin", () => {
    expect(moderationVerdict(runtime('group', [ALICE]), marked([ALICE]), target, certOf)).toEqual({ deletedBy: account(ALICE), refused: [] })
  })

  it("refuses a plain member's mark, any mark in a direct chat, and a device the log does not know", () => {
    expect(moderationVerdict(runtime('group', [ALICE]), marked([CAROL]), target, certOf)).toEqual({ refused: [{ actor: CAROL, reason: 'not-an-admin' }] })
    expect(moderationVerdict(runtime('direct', [ALICE]), marked([ALICE]), target, certOf)).toEqual({ refused: [{ actor: ALICE, reason: 'not-a-group' }] })
    expect(moderationVerdict(runtime('group', [ALICE]), marked([ALICE]), target, () => undefined)).toEqual({ refused: [{ actor: ALICE, reason: 'unknown-device' }] })
  })

  it('a refused mark stays refused once its author is an admin; an admin’s mark beside it still counts', () => {
    const doc = marked([ALICE, CAROL])
    expect(moderationVerdict(runtime('group', [ALICE, CAROL]), doc, target, certOf, [CAROL])).toEqual({ deletedBy: account(ALICE), refused: [] })
    expect(moderationVerdict(runtime('group', [CAROL]), marked([CAROL]), target, certOf, [CAROL])).toEqual({ refused: [] })
  })
})
