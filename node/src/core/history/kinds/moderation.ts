import { adminDeletesOf, type ActorId, type Shard } from '../../../../../crdt/src/index.js'
import type { AccountId } from '../../../ids.js'
import type { DeviceCert } from '../../../identity/device-cert.js'
import type { ConversationRuntime } from '../../conversation-runtime.js'

/** Why an admin-delete mark on someone else's message is not honoured (counted as `moderation-refused`). */
export type ModerationRefusal = 'not-a-group' | 'unknown-device' | 'not-an-admin'

export interface ModerationVerdict {
  /** The admin whose delete is honoured (the first by account id when several deleted it). */
  deletedBy?: AccountId
  /** Marks that were refused: the marking device's actor, and why. */
  refused: Array<{ actor: ActorId; reason: ModerationRefusal }>
}

/**
 * Whether the admin-delete marks on a message (`x` in the marking device's own subtree, crdt `deleteAsAdmin`) delete it
 * for everyone here (docs/adr/0026-admin-deletes.md). A mark counts only in a group, from a device the membership log
 * knows, whose account the log says is an admin. The log is the only source: nothing in the mark or its envelope
 * (its HLC, a claimed role) is consulted. A member removed or demoted before the mark is processed has no authority,
 * so its marks are refused. Both verdicts are final (the row keeps them: rows.ts): an honoured deletion because the
 * text's key is forgotten with it, a refusal so that the mark does not start to count if its author becomes an admin.
 */
export function moderationVerdict(
  rt: ConversationRuntime,
  doc: Shard,
  target: { author: ActorId; id: string },
  certOfActor: (rt: ConversationRuntime, actor: string) => DeviceCert | undefined,
  /** Marks refused before: a refusal is final, so a mark by a member made admin later never starts to count. */
  refusedBefore: readonly string[] = [],
): ModerationVerdict {
  const marks = adminDeletesOf(doc, target as never).filter((actor) => !refusedBefore.includes(actor))
  const verdict: ModerationVerdict = { refused: [] }
  const admins: AccountId[] = []
  for (const actor of marks) {
    if (rt.log.kind !== 'group') {
      verdict.refused.push({ actor, reason: 'not-a-group' })
      continue
    }
    const cert = certOfActor(rt, actor)
    if (cert === undefined) {
      verdict.refused.push({ actor, reason: 'unknown-device' })
      continue
    }
    const member = rt.log.members.get(cert.account)
    if (member?.role !== 'admin' || !member.devices.has(cert.device)) {
      verdict.refused.push({ actor, reason: 'not-an-admin' })
      continue
    }
    admins.push(cert.account)
  }
  if (admins.length > 0) verdict.deletedBy = admins.sort()[0]!
  return verdict
}
