import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { randomBytes } from '../../node/common/crypto/random.js'
import { toHex } from '../../node/common/util/bytes.js'

const root = new URL('../../', import.meta.url).pathname

function run(args: string[], env: Record<string, string>): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/lan-child.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() }
}

async function lineStartingWith(lines: AsyncIterator<string>, prefix: string): Promise<string> {
  for (;;) {
    const next = await lines.next()
    if (next.done) throw new Error(`process ended before printing ${prefix}`)
    if (next.value.startsWith(prefix)) return next.value.slice(prefix.length)
  }
}

describe('two OS processes on one LAN', () => {
  const children: ChildProcess[] = []
  const dirs: string[] = []
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL')
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it('find each other by mDNS (the invite carries no address) and chat both ways', async () => {
    // A service tag of our own keeps this test's announcements apart from anything else on the machine.
    const env = { HEARTH_TEST_MDNS_TAG: `hearth-test-${toHex(randomBytes(4))}` }
    const hostDir = await mkdtemp(join(tmpdir(), 'hearth-lan-host-'))
    const guestDir = await mkdtemp(join(tmpdir(), 'hearth-lan-guest-'))
    dirs.push(hostDir, guestDir)

    const host = run(['host', hostDir], env)
    children.push(host.child)
    const code = await lineStartingWith(host.lines, 'INVITE ')

    const guest = run(['guest', guestDir, code], env)
    children.push(guest.child)
    await lineStartingWith(guest.lines, 'JOINED')

    expect(await lineStartingWith(host.lines, 'GOT ')).toBe('hello over the LAN')
    expect(await lineStartingWith(guest.lines, 'GOT ')).toBe('host heard you')
  }, 60_000)
})
