/**
 * Catch-up: bob is stopped while alice writes `count` messages; bob starts again and gets them all from alice by sync
 * (gossip cannot help: it only carries what is sent while both are connected).
 *
 * Alice is reopened in a process of her own (catchup-child.ts) before bob starts, as her device would be: in the
 * bench's process her side of the sync (serving pages, taking bob's delivery receipts) would run on bob's thread and be
 * counted as his catch-up. HEARTH_BENCH_CATCHUP_ONE_PROCESS=1 keeps her in the bench's process, as runs before
 * 2026-12-03 did, to compare with them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ConversationId } from '../../node/src/ids.js'
import { body, conversationPair, now, openBenchCore, profiled, progress, progressDone, removeDir, sleep, waitUntil } from './harness.js'

const CHILD = fileURLToPath(new URL('./catchup-child.ts', import.meta.url))

export interface CatchupResult {
  messages: number
  /** Alice writing them while bob was away (not part of the target). */
  writeSeconds: number
  /** Bob's data directory opened: identity, LevelDB, libp2p node, core started. */
  openMs: number
  /** Bob dialing alice (TCP + Noise + yamux). */
  dialMs: number
  /** From the connection until bob has emitted message.added for every missed message. */
  syncMs: number
  /** From bob's start (openCore called) until bob has all messages: the target figure. */
  totalMs: number
  /** Messages bob can page through afterwards (check). */
  bobHas: number
  /** False when bob did not have them all within timeoutMs; totalMs is then the time given up at. */
  complete: boolean
  /** message.added events bob emitted for the missed messages. */
  received: number
  timeoutMs: number
  /**
   * CPU time (user + system, every thread of the bench's process: bob's core and the thread pool, and alice's when she
   * shares it) spent from bob's start until he had them all. Unlike the wall time it hardly moves when other processes
   * share the machine, so it is the figure that compares runs made at different loads.
   */
  cpuMs: number
  /** Whether alice ran in her own process (the default); her CPU over the same span when she did. */
  aliceApart: boolean
  aliceCpuMs?: number
  /** Bob's count once a second, to show the shape of a slow catch-up. */
  progress: Array<{ ms: number; got: number }>
}

const TIMEOUT_MS = 120_000

export async function catchup(count: number): Promise<CatchupResult> {
  const { alice, bob, id } = await conversationPair('direct')
  const dirs = [alice.dir, bob.dir]
  let bob2: Awaited<ReturnType<typeof openBenchCore>> | undefined
  let child: AliceApart | undefined
  try {
    await bob.close()
    const tw = now()
    for (let i = 1; i <= count; i++) {
      await alice.core.send(id, `cu ${body(i, 197)}`)
      if (i % 1000 === 0) progress(`  catchup: alice wrote ${i}/${count} while bob is away`)
    }
    progressDone()
    const writeSeconds = (now() - tw) / 1000
    await alice.core.settle()
    const apart = process.env.HEARTH_BENCH_CATCHUP_ONE_PROCESS !== '1'
    let aliceAddress = alice.core.node.addresses()[0]!
    if (apart) {
      await alice.close()
      child = await aliceApart(alice.dir)
      aliceAddress = child.address
    }
    const aliceCpu0 = await child?.cpu()

    const measured = await profiled('catchup', async () => {
      const cpu0 = process.cpuUsage()
      const t0 = now()
      const b = await openBenchCore('bob', bob.dir)
      bob2 = b
      const openMs = now() - t0
      let got = 0
      const progressAt: Array<{ ms: number; got: number }> = []
      b.core.events.on('message.added', (e) => {
        if (e.conversation === id && !e.message.mine && e.message.body.startsWith('cu ')) got++
      })
      const t1 = now()
      await b.core.node.dial(aliceAddress)
      const dialMs = now() - t1
      // Bounded: report how far bob got rather than hang (or throw away the figure) if catch-up stalls.
      let lastMark = 0
      while (got < count && now() - t1 < TIMEOUT_MS) {
        await sleep(5)
        if (now() - t1 - lastMark >= 1_000) {
          lastMark = now() - t1
          progressAt.push({ ms: Math.round(lastMark), got })
          progress(`  catchup: bob has ${got}/${count} after ${(lastMark / 1000).toFixed(0)} s`)
        }
      }
      progressDone()
      const cpu = process.cpuUsage(cpu0)
      return { b, openMs, dialMs, totalMs: now() - t0, syncMs: now() - t1 - dialMs, received: got, progressAt, cpuMs: (cpu.user + cpu.system) / 1000 }
    })
    const { openMs, dialMs, totalMs, syncMs, received, progressAt, cpuMs } = measured
    const aliceCpu1 = await child?.cpu()
    const aliceCpuMs = aliceCpu0 === undefined || aliceCpu1 === undefined ? undefined : aliceCpu1 - aliceCpu0
    const b = measured.b
    let bobHas = 0
    let before: string | null | undefined
    for (let guard = 0; guard < 1_000; guard++) {
      const page = await b.core.page(id as ConversationId, { limit: 500, ...(before ? { before } : {}) })
      bobHas += page.messages.filter((m) => m.body.startsWith('cu ')).length
      before = page.nextBefore
      if (before === null) break
    }
    return {
      messages: count,
      complete: received >= count,
      received,
      timeoutMs: TIMEOUT_MS,
      progress: progressAt,
      writeSeconds,
      openMs,
      dialMs,
      syncMs,
      totalMs,
      cpuMs,
      aliceApart: apart,
      ...(aliceCpuMs === undefined ? {} : { aliceCpuMs }),
      bobHas,
    }
  } finally {
    await Promise.allSettled([alice.close(), bob2?.close(), child?.exit()])
    await Promise.allSettled(dirs.map(removeDir))
  }
}

interface AliceApart {
  address: string
  /** Her process's CPU time so far (ms, every thread). */
  cpu(): Promise<number>
  exit(): Promise<void>
}

/** Alice's data directory reopened by catchup-child.ts; resolves once she listens. */
async function aliceApart(dir: string): Promise<AliceApart> {
  // With HEARTH_BENCH_PROFILE, alice's whole process is profiled too (start-up included): catchup-alice.cpuprofile.
  const profileDir = process.env.HEARTH_BENCH_PROFILE
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-name=catchup-alice.cpuprofile']
  const proc: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(line))
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const take = async (prefix: string, what: string): Promise<string> => {
    let found: string | undefined
    await waitUntil(() => (found = lines.find((l) => l.startsWith(prefix))) !== undefined || proc.exitCode !== null, 60_000, what, 5)
    if (found === undefined) throw new Error(`catch-up child exited (${proc.exitCode}) before ${what}`)
    lines.splice(lines.indexOf(found), 1)
    return found.slice(prefix.length)
  }
  const address = await take('ADDR ', "alice's core reopening in her own process")
  return {
    address,
    async cpu() {
      proc.stdin!.write('cpu\n')
      return Number(await take('CPU ', "alice's CPU time"))
    },
    async exit() {
      proc.stdin!.end('exit\n')
      const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(killer)
    },
  }
}
