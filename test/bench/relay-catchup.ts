/**
 * Catch-up from a relay alone (friends across the internet): bob's device is stopped, alice writes `messages` that
 * her relay stores, alice's device goes away, then bob's starts again and fetches everything from the relay. The
 * figure runs from bob's restart until his conversation counts all of them as new (each one processed and stored).
 *
 * One `hearth-relay` process on TCP loopback, so a page costs no real round trip: across the internet each page the
 * client fetches (relay-mailboxes.ts, up to MAILBOX_FETCH_LIMIT envelopes) adds one. Cores are the test harness's (test/helpers/cores.ts), as in join-offline.ts.
 */
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'
import { removeRelayDir, spawnRelay } from '../helpers/relay.js'
import { body, now, progress, progressDone, removeDir } from './harness.js'
import { outOnRelay } from './join-offline.js'

export interface RelayCatchUpSizes {
  messages: number
  timeoutMs: number
}

export const RELAY_CATCHUP_SIZES: RelayCatchUpSizes = { messages: 6_000, timeoutMs: 180_000 }
export const RELAY_CATCHUP_QUICK_SIZES: RelayCatchUpSizes = { ...RELAY_CATCHUP_SIZES, messages: 500 }

export interface RelayCatchUpResult {
  sizes: RelayCatchUpSizes
  /** From bob's restart until he has processed every message: the figure. */
  catchUpMs: number
  /** How long alice took to write them and see the relay hold them all. */
  writeMs: number
}

export async function relayCatchUp(sizes: RelayCatchUpSizes): Promise<RelayCatchUpResult> {
  const relay = await spawnRelay({ flags: { 'log-level': 'warn', dht: 'false' } })
  const alice = await startCore('alice', { relays: [relay.address] })
  let bob = await startCore('bob', { relays: [relay.address] })
  try {
    const id = (await makeGroup(alice, [bob])) as ConversationId
    await bob.stop()
    const tw = now()
    for (let i = 0; i < sizes.messages; i++) {
      await alice.core.send(id, body(i))
      if ((i + 1) % 1_000 === 0) progress(`relay-catchup: alice wrote ${i + 1}/${sizes.messages} while bob is away`)
    }
    await outOnRelay(alice, id, sizes.timeoutMs)
    const writeMs = now() - tw
    await alice.stop()
    const t0 = now()
    bob = await bob.restart()
    await waitFor(() => bob.core.getConversation(id).unread >= sizes.messages, {
      timeoutMs: sizes.timeoutMs,
      intervalMs: 5,
      message: 'bob to have every message from the relay',
    })
    const catchUpMs = now() - t0
    progressDone()
    return { sizes, catchUpMs, writeMs }
  } finally {
    await alice.stop()
    await bob.stop()
    await removeDir(alice.dir)
    await removeDir(bob.dir)
    await relay.stop()
    await removeRelayDir(relay)
  }
}
