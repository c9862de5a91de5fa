import { HearthError } from '../../../common/errors.js'
import type { SystemLineView } from '../../api/types.js'
import { groupDescriptionProblem, groupNameProblem } from '../../conversation/group-about.js'
import { eventText, membershipEvents } from '../../conversation/membership-events.js'
import { leaveProblem } from '../../conversation/membership-state.js'
import { MAX_PARENTS } from '../../conversation/membership-op.js'
import { hlcWall } from '../../conversation/op-graph.js'
import type { AccountId, ConversationId } from '../../ids.js'
import { streamKey, type ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import type { MembershipEngine } from './membership-engine.js'

/** The newest lines a timeline gets: a log with more membership changes than this shows the latest ones. */
export const MAX_SYSTEM_LINES = 2_000

/**
 * Group life: an admin renames or describes a group, a member leaves it, and the timeline's lines of what happened.
 * The log decides what counts (membership-state.ts); these commands check first so a person gets a clear answer
 * instead of an operation every member ignores.
 */
export class GroupLife {
  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
  ) {}

  /** Changes the name and/or the description ('' clears it) of a group; admins only. */
  async update(id: ConversationId, input: { name?: string | undefined; description?: string | undefined }): Promise<void> {
    const name = input.name?.trim()
    const description = input.description?.trim()
    await this.kernel.queue.run(async () => {
      const rt = this.kernel.runtime(id)
      if (rt.log.kind !== 'group') throw new HearthError('INVALID_INPUT', 'only a group has a name and description to change')
      this.kernel.requireAdmin(rt)
      const nameProblem = name === undefined ? undefined : groupNameProblem(name)
      if (nameProblem !== undefined) throw new HearthError('INVALID_INPUT', capitalised(nameProblem))
      const descriptionProblem = description === undefined ? undefined : groupDescriptionProblem(description)
      if (descriptionProblem !== undefined) throw new HearthError('INVALID_INPUT', capitalised(descriptionProblem))
      // Only what changes: an unchanged field would only add a line that says nothing.
      const newName = name !== undefined && name !== rt.log.name ? name : undefined
      const newDescription = description !== undefined && description !== rt.log.description ? description : undefined
      if (newName === undefined && newDescription === undefined) return
      await this.engine.append(rt, {
        type: 'about',
        ...(newName === undefined ? {} : { name: newName }),
        ...(newDescription === undefined ? {} : { description: newDescription }),
      })
    })
  }

  /**
   * Leaves a group. The leave records how far each of our devices wrote (so nothing we write later is accepted) and
   * names no new epoch: we must not know the next one. The remaining admins rotate as soon as they see it.
   */
  async leave(id: ConversationId): Promise<void> {
    await this.kernel.queue.run(async () => {
      const rt = this.kernel.runtime(id)
      const me = this.kernel.identity.account
      const member = rt.log.members.get(me)
      if (member === undefined) throw new HearthError('NOT_A_MEMBER', 'you are not a member of this conversation')
      const problem = leaveProblem(rt.log, me)
      if (problem !== undefined) {
        throw new HearthError('INVALID_INPUT', problem.startsWith('the last admin') ? 'Make someone else an admin before you leave' : capitalised(problem))
      }
      // Once out, this core neither serves the log to members nor hands envelopes to relays: the leave must reach a
      // member now (gossip), who passes it on to the others (sync).
      if (rt.log.members.size > 1 && this.kernel.memberPeers(rt).length === 0) {
        throw new HearthError('UNREACHABLE', 'None of the group’s members is reachable now: try again when one is online, so they learn that you left')
      }
      const cutoffs: Record<string, number> = {}
      for (const device of member.devices.keys()) {
        for (const epoch of rt.epochs.keys()) {
          cutoffs[`${epoch}/${device}`] =
            device === this.kernel.identity.deviceId ? this.kernel.ownHave(rt, epoch) : (rt.streams.get(streamKey(epoch, device))?.have ?? 0)
        }
      }
      // Our own envelopes that carry the leave (and the merges it may need first) come next in our stream of the
      // current epoch: they must count, or a member that already knows of the leave would refuse the envelope.
      const current = `${rt.log.currentEpoch}/${this.kernel.identity.deviceId}`
      const extra = rt.log.heads.length > MAX_PARENTS ? Math.ceil((rt.log.heads.length - MAX_PARENTS) / (MAX_PARENTS - 1)) : 0
      if (current in cutoffs) cutoffs[current] = cutoffs[current]! + 1 + extra
      await this.engine.append(rt, { type: 'leave', cutoffs })
    })
  }

  /** What happened in the conversation, oldest first, as our timeline shows it (the same events on every member; our own account is "you"). */
  systemLines(id: ConversationId): SystemLineView[] {
    const rt = this.kernel.runtime(id)
    return linesOf(rt, this.kernel.identity.account).slice(-MAX_SYSTEM_LINES)
  }
}

/** The timeline's lines as `self` reads them (their own account is "you"). */
export function linesOf(rt: ConversationRuntime, self: AccountId): SystemLineView[] {
  const nameOf = (account: AccountId) => rt.log.names.get(account) ?? 'Someone'
  return membershipEvents(rt.log, rt.ops).map((event) => ({
    id: event.op,
    kind: event.kind,
    hlc: event.hlc,
    at: hlcWall(event.hlc),
    actor: event.actor,
    target: event.target,
    text: eventText(event, nameOf, rt.log.kind, self),
  }))
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
