/**
 * Join while the inviter sleeps (docs/adr/0027): from the admin's app starting again to the joiner's first message.
 *
 * One `hearth-relay` process on TCP loopback. Per sample: an admin creates a group, writes `history` messages, makes an
 * invite and quits once the relay holds everything; a fresh joiner opens the invite (the direct attempt finds no one and
 * the join waits on the relay); then the clock starts and the admin's app starts again. Figures: until the joiner is
 * a member (`admitted`) and until it shows the admin's first message (`firstMessage`, the target figure).
 *
 * Cores are the test harness's (test/helpers/cores.ts): real LevelDB, libp2p on loopback, the real relay client, with
 * its short relay timers (a 1 s pass, 2 s long-polls). Nothing on this path waits for a timer: the admin's relay passes
 * run at start and the joiner's long-poll returns when the answer is deposited.
 */
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, type TestCore } from '../helpers/cores.js'
import { removeRelayDir, spawnRelay } from '../helpers/relay.js'
import { now, progress, progressDone, removeDir, summarize, type Summary } from './harness.js'

export interface JoinOfflineSizes {
  samples: number
  history: number
  timeoutMs: number
}

export const JOIN_OFFLINE_SIZES: JoinOfflineSizes = { samples: 5, history: 20, timeoutMs: 90_000 }
export const JOIN_OFFLINE_QUICK_SIZES: JoinOfflineSizes = { ...JOIN_OFFLINE_SIZES, samples: 2, history: 5 }

export interface JoinOfflineResult {
  sizes: JoinOfflineSizes
  /** From the admin's core starting until the joiner is a member. */
  admitted: Summary
  /** From the admin's core starting until the joiner shows the admin's first message: the target figure. */
  firstMessage: Summary
}

/** Until a relay holds `c`'s newest messages durably ("sent"): only then may `c` go away. */
export async function outOnRelay(c: TestCore, id: ConversationId, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await c.core.page(id, { limit: 500 })).messages.filter((m) => m.mine).every((m) => m.state === 'sent'), {
    timeoutMs,
    message: `${c.name}'s messages on the relay`,
  })
}

export async function joinOffline(sizes: JoinOfflineSizes): Promise<JoinOfflineResult> {
  const relay = await spawnRelay({ flags: { 'log-level': 'warn', dht: 'false' } })
  const admitted: number[] = []
  const first: number[] = []
  try {
    for (let i = 0; i < sizes.samples; i++) {
      progress(`join-offline ${i + 1}/${sizes.samples}`)
      let admin = await startCore(`admin${i}`, { relays: [relay.address] })
      const joiner = await startCore(`joiner${i}`, { relays: [relay.address] })
      try {
        const group = await admin.core.createConversation({ kind: 'group', name: 'Family' })
        const id = group.id as ConversationId
        for (let m = 0; m < sizes.history; m++) await admin.core.send(id, `history ${m}`)
        const invite = await admin.core.createInvite(id, { singleUse: true })
        await admin.core.send(id, 'the invite is out')
        await outOnRelay(admin, id)
        await admin.stop()
        const waiting = await joiner.core.join(invite.code)
        if (waiting.joinState !== 'waiting') throw new Error(`the join did not wait: ${JSON.stringify(waiting.joinState)}`)

        const start = now()
        let inAt = 0
        admin = await admin.restart()
        await waitFor(
          async () => {
            if (inAt === 0 && joiner.core.members(id).length === 2) inAt = now()
            if (inAt === 0) return false
            return (await joiner.core.page(id, { limit: 500 })).messages.some((m) => m.body === 'history 0')
          },
          { timeoutMs: sizes.timeoutMs, intervalMs: 20, message: 'the joiner to show the first message' },
        )
        first.push(now() - start)
        admitted.push(inAt - start)
      } finally {
        await admin.stop()
        await joiner.stop()
        await removeDir(admin.dir)
        await removeDir(joiner.dir)
      }
    }
    progressDone()
  } finally {
    await relay.stop()
    await removeRelayDir(relay)
  }
  return { sizes, admitted: summarize(admitted), firstMessage: summarize(first) }
}
