/**
 * Strangers flood a real relay's replay guard while an honest client keeps depositing and fetching. The strangers
 * hold no honest capability; what they can make for free is PeerIds and mailboxes of their own, so they sign valid
 * requests to those, stamped at the edge of the relay's clock window, many more than the guard can remember. The
 * honest devices (clocks 3 s behind and 3 s ahead of the relay's) must be served throughout, the guard must stay
 * within its bound, and the strangers' refusals must show in /metrics.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveMailboxKeys, type MailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { MAILBOX_RECORD_UNITS } from '../../node/common/crypto/replay-guard.js'
import { MailboxClient } from '../../node/common/net/mailbox-client.js'
import { clientNode, randomEnvelope, removeRelayDir, spawnRelay, type ClientNode, type RelayProcess } from '../helpers/relay.js'

const SKEW_MS = 30_000
const MAX_NONCES = 400
const freshMailbox = (): MailboxKeys => deriveMailboxKeys(new Uint8Array(randomBytes(32)))

describe('relay replay guard under a stranger flood (real relay process)', () => {
  let relay: RelayProcess
  let honest: ClientNode
  const strangers: ClientNode[] = []

  beforeAll(async () => {
    relay = await spawnRelay({
      flags: {
        'clock-skew': '30s',
        'replay-max-nonces': String(MAX_NONCES),
        'replay-max-nonces-per-mailbox': '50',
        'requests-per-second': '300',
        'request-burst': '300',
      },
    })
    honest = await clientNode({}, { now: () => Date.now() - 3_000 })
    await honest.node.dial(relay.address)
    for (let i = 0; i < 8; i++) {
      // Stamped just inside the window, as far ahead as the relay allows.
      const stranger = await clientNode({}, { now: () => Date.now() + SKEW_MS - 1_000 })
      await stranger.node.dial(relay.address)
      strangers.push(stranger)
    }
  })

  afterAll(async () => {
    await Promise.allSettled([honest?.stop(), ...strangers.map((s) => s.stop())])
    await relay?.stop()
    await removeRelayDir(relay)
  })

  /** `count` fetches from one stranger, 4 at a time; returns how many were accepted (refusals are its problem). */
  async function flood(stranger: ClientNode, count: number, mailboxFor: (i: number) => MailboxKeys, client = stranger.client): Promise<number> {
    let accepted = 0
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++
        try {
          await client.fetch(relay.address, mailboxFor(i))
          accepted++
        } catch {
          // rate-limited, busy, stale: the strangers' problem
        }
      }
    }
    await Promise.all(Array.from({ length: 4 }, worker))
    return accepted
  }

  it('serves an honest client throughout while strangers overfill the guard', async () => {
    const direct = freshMailbox()
    const group = freshMailbox()
    // Two devices of honest members, one clock 3 s behind the relay's, one 3 s ahead, share the group mailbox.
    const ahead = new MailboxClient(honest.node, { now: () => Date.now() + 3_000 })
    const users = [
      { client: honest.client, box: direct, after: null as string | null },
      { client: honest.client, box: group, after: null as string | null },
      { client: ahead, box: group, after: null as string | null },
    ]
    const failures: unknown[] = []
    let rounds = 0

    /** One honest round: each device deposits one envelope and fetches from its last cursor, finding it there. */
    const honestRound = async (): Promise<void> => {
      for (const user of users) {
        const envelope = randomEnvelope(200)
        try {
          expect(await user.client.deposit(relay.address, user.box, [envelope])).toEqual([{ id: envelope.id, status: 'stored' }])
          const page = await user.client.fetch(relay.address, user.box, { after: user.after })
          expect(page.items.map((item) => Buffer.from(item.id).toString('hex'))).toContain(Buffer.from(envelope.id).toString('hex'))
          user.after = page.next
        } catch (err) {
          failures.push(err)
        }
      }
      rounds++
    }

    await honestRound()
    let flooding = true
    const honestLoop = (async () => {
      while (flooding) await honestRound()
    })()

    const [own, fresh] = [strangers.slice(0, 4), strangers.slice(4, 7)]
    const late = strangers[7]!
    const ownBoxes = own.map(() => freshMailbox())
    const accepted = await Promise.all([
      // Each of these PeerIds floods one mailbox of its own...
      ...own.map((s, n) => flood(s, 100, () => ownBoxes[n]!)),
      // ...these a new mailbox with every request (mailbox ids cost nothing)...
      ...fresh.map((s) => flood(s, 200, () => freshMailbox())),
      // ...and this one stamps 5 minutes ahead, with a new client each time so it never learns the relay's clock.
      (async () => {
        let n = 0
        for (let i = 0; i < 20; i++) {
          const client = new MailboxClient(late.node, { now: () => Date.now() + 5 * 60_000 })
          await client.fetch(relay.address, freshMailbox()).then(() => n++, () => {})
        }
        return n
      })(),
    ])
    flooding = false
    await honestLoop
    await honestRound()

    expect(failures).toEqual([])
    expect(rounds).toBeGreaterThan(5)
    // The strangers' requests were taken until the guard was full (the busy refusals below); it stayed within its bound.
    expect(accepted.reduce((a, b) => a + b, 0)).toBeGreaterThan(MAX_NONCES / (MAILBOX_RECORD_UNITS + 1))
    expect(await relay.metric('hearth_relay_replay_guard_load')).toBeLessThanOrEqual(MAX_NONCES)
    // What the strangers were refused shows in /metrics: stamps too far ahead (stale) and new mailboxes while full (busy).
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'stale' })).toBeGreaterThanOrEqual(20)
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'busy' })).toBeGreaterThan(0)

    // A mailbox the relay has never seen is served too once the flood stops (at once, or after the busy retry hint).
    const newcomer = freshMailbox()
    const probe = randomEnvelope(200)
    const deadline = Date.now() + 15_000
    for (;;) {
      try {
        expect(await honest.client.deposit(relay.address, newcomer, [probe])).toEqual([{ id: probe.id, status: 'stored' }])
        break
      } catch (err) {
        const hint = (err as { reason?: string; retryAfterMs?: number }).reason === 'busy' ? (err as { retryAfterMs?: number }).retryAfterMs : undefined
        if (hint === undefined || Date.now() + hint > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, hint))
      }
    }
  })
})
