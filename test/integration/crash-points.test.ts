/**
 * kill -9 at fifty seeded moments of a busy core. The victim runs in its own process (test/helpers/crash-points-child.ts)
 * and is always sending; each round adds one kind of work (a burst of sends, receiving from peers, catching up on a
 * backlog, joining a group, renaming itself, removing or adding back a member), started once the round's first send was
 * saved, and kills it after a seeded delay in [0, 300] ms, so kills land inside database writes. Each restart is a
 * reopen on the same data directory: it must open and hold every message it acknowledged. At the end the victim and
 * its peers (in-process cores on loopback TCP) must converge to identical histories and identical membership.
 *
 * HEARTH_CRASH_SEED=<n> replays a run (a failure names its seed and round), HEARTH_CRASH_ROUNDS=<n> runs fewer rounds,
 * HEARTH_CRASH_VERBOSE=1 traces each round on stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import type { ConversationDump } from '../helpers/crash-points-child.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { ChildCore, bundleChild } from '../soak/child-driver.js'
import { seededRandom } from '../helpers/seeded-random.js'
import { wholeHistory } from '../helpers/history.js'

const SEED = Number(process.env.HEARTH_CRASH_SEED ?? 20261202)
/** Fifty in CI; fewer to try a change quickly (the kinds keep their proportions). */
const ROUNDS = Number(process.env.HEARTH_CRASH_ROUNDS ?? 50)
const MAX_KILL_DELAY_MS = 300
/**
 * The run takes about 110 s of CPU (fifty-one starts of the child are most of it): 3 to 4.5 min on a 2-core machine
 * shared with other heavy work, less alone. The cap leaves room for a loaded machine, not for a hang.
 */
const TIMEOUT_MS = 420_000
type Kind = 'send' | 'receive' | 'sync' | 'join' | 'rename' | 'remove'
const KIND_SHARES: Record<Kind, number> = { send: 10, receive: 8, sync: 8, join: 8, rename: 8, remove: 8 }

async function allIds(c: TestCore, id: ConversationId): Promise<string[]> {
  return (await wholeHistory((before) => c.core.page(id, { limit: 500, before }))).map((m) => m.id)
}

/** The same shape as the child's dump, so the two compare as strings. */
async function dumpOf(c: TestCore, id: ConversationId): Promise<ConversationDump> {
  const members = c.core
    .members(id)
    .map((m) => `${m.account} ${m.role} ${m.displayName} ${m.devices.map((d) => d.device).sort().join(',')}`)
    .sort()
  return { messages: await allIds(c, id), members }
}

const verbose = process.env.HEARTH_CRASH_VERBOSE === '1'
const t0 = Date.now()
const trace = (text: string) => {
  if (verbose) process.stderr.write(`[crash-points +${Date.now() - t0} ms] ${text}\n`)
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('kill -9 at fifty moments of a busy core', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined)
  })

  it(`reopens every time with all it acknowledged, then converges (seed ${SEED})`, { timeout: TIMEOUT_MS }, async () => {
    const random = seededRandom(SEED)
    const kinds: Kind[] = (Object.entries(KIND_SHARES) as Array<[Kind, number]>).flatMap(([k, n]) =>
      Array<Kind>(Math.max(1, Math.round((n * ROUNDS) / 50))).fill(k),
    )
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!]
    }

    const script = await bundleChild()
    cleanup.push(() => rm(script, { force: true }))
    const dataDir = await mkdtemp(join(tmpdir(), 'hearth-crash-points-'))
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }))
    const [alice, bob, dave] = await Promise.all([startCore('alice'), startCore('bob'), startCore('dave')])
    const peers = [alice!, bob!, dave!]
    cleanup.push(() => stopAll(peers))
    const peerAddresses = peers.map((p) => p.core.node.addresses()[0]!)

    const acked = new Map<string, Set<string>>()
    let ackWaiter = () => {}
    const onAck = (conversation: string, id: string) => {
      ackWaiter()
      let set = acked.get(conversation)
      if (set === undefined) acked.set(conversation, (set = new Set()))
      set.add(id)
    }
    let child: ChildCore | undefined
    cleanup.push(async () => child?.kill())
    const spawnVictim = async (round: string) => {
      child = new ChildCore(dataDir, 'victim', { script, onAck, syncIntervalMs: 1_000 })
      try {
        return await child.ready
      } catch (err) {
        throw new Error(`seed ${SEED}, ${round}: the core did not open after the kill: ${String(err)}`)
      }
    }

    // The victim creates the group, so it is the admin who removes and adds back.
    trace('setup')
    const first = await spawnVictim('setup')
    const victimAccount = first.account
    const main = (await child!.call<string>({ op: 'create', name: 'crash' })) as ConversationId
    for (const p of peers) await p.core.join(await child!.call<string>({ op: 'invite', conversation: main }))
    for (const p of peers) await waitFor(() => p.core.members(main).length === 4, { timeoutMs: 20_000 })
    trace('group made')
    const daveAccount = dave!.identity.account
    /** Groups alice made for the victim to join, by invite code. */
    const joins = new Map<string, ConversationId>()
    const stats: Array<{ round: number; kind: Kind; delayMs: number; acks: number; midWork: boolean }> = []

    for (let round = 0; round < kinds.length; round++) {
      const kind = kinds[round]!
      const label = `round ${round} (${kind})`
      let code: string | undefined
      if (kind === 'sync') {
        // A backlog written while the victim was down: it catches up when it dials, and is killed doing so.
        for (let i = 0; i < 40; i++) {
          await alice!.core.send(main, `backlog a ${round} ${i}`)
          await bob!.core.send(main, `backlog b ${round} ${i}`)
        }
      } else if (kind === 'join') {
        const group = await alice!.core.createConversation({ kind: 'group', name: `join ${round}` })
        code = (await alice!.core.createInvite(group.id as ConversationId, { singleUse: true })).code
        joins.set(code, group.id as ConversationId)
      }
      trace(`${label}: spawning`)
      if (round > 0) await spawnVictim(label)
      trace(`${label}: open`)
      const victim = child!
      const expected = Object.fromEntries([...acked].map(([c, ids]) => [c, [...ids]]))
      const missing = await victim.call<string[]>({ op: 'missing', ids: expected })
      expect(missing, `seed ${SEED}, ${label}: acknowledged messages lost`).toEqual([])

      trace(`${label}: checked`)
      const ackedBefore = [...acked.values()].reduce((n, s) => n + s.size, 0)
      const delayMs = Math.floor(random() * MAX_KILL_DELAY_MS)
      // The core is busy first: it dials (and so catches up) and sends without pause. The round's own work starts
      // once the first of those sends was saved, so the kill lands among writes however slow the machine is.
      const firstAck = new Promise<void>((resolve) => {
        ackWaiter = resolve
      })
      victim.fire({ op: 'dial', addresses: peerAddresses })
      victim.fire({ op: 'send', conversation: main, count: kind === 'send' ? 400 : 100, tag: `r${round}` })
      await Promise.race([firstAck, sleep(10_000)])
      const started = Date.now()
      let background: Promise<unknown> = Promise.resolve()
      let work: Promise<unknown> | undefined
      const track = (p: Promise<unknown>) => {
        let done = false
        const settled = p.then(
          () => (done = true),
          () => (done = true),
        )
        work = settled
        return () => done
      }
      let workDone = () => true
      switch (kind) {
        case 'send':
          for (const g of joins.values()) victim.fire({ op: 'send', conversation: g, count: 100, tag: `r${round}g` })
          workDone = () => false
          break
        case 'receive':
          background = Promise.allSettled(
            [alice!, bob!].map(async (p) => {
              for (let i = 0; i < 20; i++) await p.core.send(main, `live ${p.name} ${round} ${i}`)
            }),
          )
          break
        case 'join':
          workDone = track(victim.call({ op: 'join', code: code! }))
          break
        case 'rename':
          workDone = track(victim.call({ op: 'rename', name: `victim ${round}` }))
          break
        case 'remove':
          workDone = track(victim.call({ op: 'toggle', conversation: main, account: daveAccount }))
          break
        case 'sync':
          break
      }
      await sleep(Math.max(0, delayMs - (Date.now() - started)))
      const midWork = !workDone()
      await victim.kill()
      await background
      await work
      stats.push({ round, kind, delayMs, acks: [...acked.values()].reduce((n, s) => n + s.size, 0) - ackedBefore, midWork })
    }

    trace('rounds done')
    // The last reopen: no kill. Retry any join a kill cut short (a retry is answered even after the invite was used),
    // leave dave a member, and wait for everyone to agree.
    await spawnVictim('final reopen')
    const victim = child!
    const expected = Object.fromEntries([...acked].map(([c, ids]) => [c, [...ids]]))
    expect(await victim.call<string[]>({ op: 'missing', ids: expected }), `seed ${SEED}, final reopen`).toEqual([])
    await victim.call({ op: 'dial', addresses: peerAddresses })
    for (const c of joins.keys()) await victim.call({ op: 'join', code: c })
    let dump = await victim.call<Record<string, ConversationDump>>({ op: 'dump' })
    if (!dump[main]!.members.some((m) => m.startsWith(`${daveAccount} `))) {
      await victim.call({ op: 'addBack', conversation: main, account: daveAccount })
    }
    const expectations: Array<[TestCore, ConversationId, 'all' | 'members']> = [
      [alice!, main, 'all'],
      [bob!, main, 'all'],
      // dave was out for some epochs: what was said then is not his to read, so only the membership must agree.
      [dave!, main, 'members'],
      ...[...joins.values()].map((g): [TestCore, ConversationId, 'all'] => [alice!, g, 'all']),
    ]
    let disagreement = ''
    try {
      await waitFor(
        async () => {
          dump = await victim.call<Record<string, ConversationDump>>({ op: 'dump' })
          for (const [peer, id, what] of expectations) {
            const theirs = await dumpOf(peer, id)
            const mine = dump[id]
            if (mine === undefined) {
              disagreement = `the victim does not hold ${id}`
              return false
            }
            const same =
              JSON.stringify(mine.members) === JSON.stringify(theirs.members) &&
              (what === 'members' || JSON.stringify(mine.messages) === JSON.stringify(theirs.messages))
            if (!same) {
              disagreement = `${peer.name} and the victim differ on ${id}: ${mine.messages.length} vs ${theirs.messages.length} messages, members ${JSON.stringify(mine.members)} vs ${JSON.stringify(theirs.members)}`
              return false
            }
          }
          return true
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      )
    } catch {
      throw new Error(`seed ${SEED}: no convergence after the kills: ${disagreement}`)
    }
    // The victim's own account is still a member everywhere, and every acknowledged message reached alice.
    expect(dump[main]!.members.some((m) => m.startsWith(`${victimAccount} admin `))).toBe(true)
    for (const [conversation, ids] of acked) {
      const held = new Set(dump[conversation]?.messages ?? [])
      expect([...ids].filter((id) => !held.has(id)), `seed ${SEED}: acknowledged on ${conversation}`).toEqual([])
    }
    const kindsSeen = new Set(stats.map((s) => s.kind))
    expect(kindsSeen.size).toBe(6)
    // Every kill lands after the round's first send was saved, while more are being written.
    expect(stats.filter((s) => s.acks > 0).length).toBe(stats.length)
    const cut = stats.filter((s) => s.midWork && ['join', 'rename', 'remove'].includes(s.kind))
    trace(`joins, renames and removals cut short by the kill: ${cut.length}/${stats.filter((s) => ['join', 'rename', 'remove'].includes(s.kind)).length}`)
    await victim.close()
  })
})
