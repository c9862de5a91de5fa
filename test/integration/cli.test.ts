/**
 * The real `hearth` CLI as child processes: real data dirs, real scrypt, real LevelDB, libp2p over TCP loopback
 * (mDNS off: peers meet through invite addresses), a real daemon serving the core API over its WebSocket.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'

const ROOT = join(import.meta.dirname, '..', '..')
const PASSPHRASE = 'correct horse battery staple'

interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('HEARTH_')) delete env[key]
  return {
    ...env,
    HEARTH_PASSPHRASE: PASSPHRASE,
    HEARTH_MDNS: '0',
    HEARTH_LISTEN: '/ip4/127.0.0.1/tcp/0',
    HEARTH_LOG_LEVEL: 'warn',
    ...extra,
  }
}

function spawnCli(dataDir: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'node/src/cli/main.ts', '--data-dir', dataDir, ...args], {
    cwd: ROOT,
    env: cliEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

function run(dataDir: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(dataDir, args, options.env)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin!.end(options.input ?? '')
  })
}

async function runOk(dataDir: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
  const result = await run(dataDir, args, options)
  if (result.code !== 0) throw new Error(`hearth ${args.join(' ')} exited ${result.code}\n${result.stderr}`)
  return result.stdout
}

async function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  const code = await exited
  clearTimeout(timer)
  return code
}

describe('the hearth CLI', () => {
  let root: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hearth-cli-'))
  })
  afterAll(async () => {
    await Promise.allSettled(children.map(stopProcess))
    await rm(root, { recursive: true, force: true })
  })

  it('init prints a 24-word recovery phrase once; whoami reads the identity back', async () => {
    const dir = join(root, 'solo')
    const out = await runOk(dir, ['init', '--name', 'Solo'])
    expect(out).toContain('WRITE IT DOWN')
    const words = [...out.matchAll(/\b\d{1,2}\. ([a-z]+)/g)].map((m) => m[1])
    expect(words).toHaveLength(24)

    const again = await run(dir, ['init', '--name', 'Solo'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('already holds a Hearth identity')

    const me = JSON.parse(await runOk(dir, ['--json', 'whoami'])) as { displayName: string; account: string; running: boolean }
    expect(me.displayName).toBe('Solo')
    expect(me.account).toMatch(/^[0-9a-f]{64}$/)
    expect(me.running).toBe(false)

    const restored = JSON.parse(
      await runOk(join(root, 'restored'), ['--json', 'init', '--restore', '--name', 'Solo again'], { input: words.join(' ') + '\n' }),
    ) as { account: string; recoveryPhrase: string | null }
    expect(restored.account).toBe(me.account)
    expect(restored.recoveryPhrase).toBeNull()
  })

  it('a wrong passphrase, a missing identity and a mistyped command are clear errors with the right exit codes', async () => {
    const dir = join(root, 'solo')
    const wrong = await run(dir, ['whoami'], { env: { HEARTH_PASSPHRASE: 'not it' } })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('error: wrong passphrase')

    const empty = await run(join(root, 'nobody'), ['list'])
    expect(empty.code).toBe(1)
    expect(empty.stderr).toContain('hearth init')

    const usage = await run(dir, ['create'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--group')
    expect((await run(dir, ['invite', 'x', '--expires', 'soon'])).code).toBe(2)
    expect((await run(dir, ['frobnicate'])).code).toBe(2)
  })

  it('create --group then list shows it, in-process without a daemon', async () => {
    const dir = join(root, 'solo')
    const created = JSON.parse(await runOk(dir, ['--json', 'create', '--group', 'Book club'])) as {
      conversation: { id: string }
      invite: { code: string }
    }
    expect(created.invite.code).toMatch(/^hearth:\/\/join\//)
    const text = await runOk(dir, ['list'])
    expect(text).toContain('Book club')
    expect(text).toContain(created.conversation.id.slice(0, 8))
    const members = await runOk(dir, ['members', created.conversation.id.slice(0, 6)])
    expect(members).toMatch(/Solo \(you\)\s+admin/)

    // A new name goes to the identity file (the next command, a new process, reads it back) and into the conversation.
    const renamed = JSON.parse(await runOk(dir, ['--json', 'rename', 'Solo', 'Traveller'])) as { displayName: string }
    expect(renamed.displayName).toBe('Solo Traveller')
    expect((JSON.parse(await runOk(dir, ['--json', 'whoami'])) as { displayName: string }).displayName).toBe('Solo Traveller')
    expect(await runOk(dir, ['members', created.conversation.id])).toMatch(/Solo Traveller \(you\)\s+admin/)
    expect((await run(dir, ['rename', '   '])).code).toBe(1)
  })

  it('two people: a daemon, an invite through its API, join, send, read and follow', async () => {
    const a = join(root, 'alice')
    const b = join(root, 'bob')
    const daemon = spawnCli(a, ['start', '--name', 'alice'])
    children.push(daemon)
    let daemonOut = ''
    daemon.stdout!.on('data', (d: Buffer) => (daemonOut += d.toString()))
    daemon.stderr!.on('data', () => {})
    await waitFor(() => /^\s+API\s+ws:\/\/127\.0\.0\.1:\d+/m.test(daemonOut), { timeoutMs: 20_000, message: 'the daemon API line' })
    expect(daemonOut).toContain('WRITE IT DOWN') // first run: it created the identity
    expect((await stat(join(a, 'api.json'))).mode & 0o777).toBe(0o600)

    // While the daemon runs, commands for its data dir go through its API (LevelDB admits one process).
    const me = JSON.parse(await runOk(a, ['--json', 'whoami'])) as { running: boolean; displayName: string }
    expect(me).toMatchObject({ running: true, displayName: 'alice' })
    const created = JSON.parse(await runOk(a, ['--json', 'create', '--group', 'Family'])) as {
      conversation: { id: string }
      invite: { code: string }
    }

    await runOk(b, ['init', '--name', 'bob'])
    const joined = await run(b, ['join', created.invite.code])
    expect(joined.code, joined.stderr).toBe(0)
    expect(joined.stderr).toContain('reaching')
    expect(joined.stdout).toContain('Joined group “Family” (2 members)')

    const follower = spawnCli(a, ['--json', 'follow', 'Family'])
    children.push(follower)
    let followed = ''
    follower.stdout!.on('data', (d: Buffer) => (followed += d.toString()))
    let followErr = ''
    follower.stderr!.on('data', (d: Buffer) => (followErr += d.toString()))
    await waitFor(() => followErr.includes('following'), { timeoutMs: 15_000, message: 'follow to start' })

    const sent = await run(b, ['send', 'Family', 'hello', 'from', 'bob'])
    expect(sent.code, sent.stderr).toBe(0)

    await waitFor(
      async () => {
        const page = JSON.parse(await runOk(a, ['--json', 'read', 'Family'])) as { messages: Array<{ authorName: string; body: string }> }
        return page.messages.some((m) => m.authorName === 'bob' && m.body === 'hello from bob')
      },
      { timeoutMs: 20_000, intervalMs: 250, message: "bob's message at alice" },
    )
    await waitFor(() => followed.includes('hello from bob'), { timeoutMs: 5_000, message: 'follow to print the message' })
    const line = JSON.parse(followed.trim().split('\n')[0]!) as { conversation: string; message: { body: string } }
    expect(line).toMatchObject({ conversation: created.conversation.id, message: { body: 'hello from bob' } })
    expect(await stopProcess(follower)).toBe(0)

    const human = await runOk(a, ['read', created.conversation.id.slice(0, 4)])
    expect(human).toMatch(/bob\s+hello from bob/)

    // Removal sticks: bob is out until alice adds him back explicitly.
    expect(await runOk(a, ['remove', 'Family', 'bob'])).toContain('Removed bob')
    const afterRemove = JSON.parse(await runOk(a, ['--json', 'members', 'Family'])) as Array<{ displayName: string }>
    expect(afterRemove.map((m) => m.displayName)).toEqual(['alice'])
    expect(await runOk(a, ['add-back', 'Family', 'bob'])).toContain('Added bob back')
    const afterAddBack = JSON.parse(await runOk(a, ['--json', 'members', 'Family'])) as Array<{ displayName: string }>
    expect(afterAddBack.map((m) => m.displayName)).toEqual(['alice', 'bob'])

    // A clean stop removes api.json, so the next command opens the data dir in-process again.
    expect(await stopProcess(daemon)).toBe(0)
    expect(existsSync(join(a, 'api.json'))).toBe(false)
    const offline = JSON.parse(await runOk(a, ['--json', 'whoami'])) as { running: boolean }
    expect(offline.running).toBe(false)
  })
})
