/**
 * The real `hearth` CLI as child processes, started the way `npx hearth` starts it (node/bin/hearth.js, which runs the
 * built JavaScript): real data dirs, real scrypt, real LevelDB, libp2p over TCP loopback (mDNS off: peers meet through
 * invite addresses), a real daemon serving the core API over its WebSocket.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { removeRelayDir, spawnRelay, type RelayProcess } from '../helpers/relay.js'

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

const HEARTH = join(ROOT, 'node', 'bin', 'hearth.js')

function spawnCli(dataDir: string, args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, HEARTH, '--data-dir', dataDir, ...args], {
    cwd: ROOT,
    env: cliEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

interface RunOptions {
  env?: Record<string, string>
  input?: string
  nodeArgs?: string[]
}

function run(dataDir: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(dataDir, args, options.env, options.nodeArgs)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin!.end(options.input ?? '')
  })
}

async function runOk(dataDir: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await run(dataDir, args, options)
  if (result.code !== 0) throw new Error(`hearth ${args.join(' ')} exited ${result.code}\n${result.stderr}`)
  return result.stdout
}

/** A shell pipeline `hearth … | <reader>`, with the exit status of hearth itself. */
function pipeInto(dataDir: string, args: string[], reader: string): Promise<RunResult & { hearthExit: number }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`
  const command = [process.execPath, HEARTH, '--data-dir', dataDir, ...args].map(quote).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${command} | ${reader}; echo "hearth-exit=\${PIPESTATUS[0]}" >&2`], { cwd: ROOT, env: cliEnv() })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const m = /hearth-exit=(\d+)\n$/.exec(stderr)
      resolve({ code, stdout, stderr: stderr.replace(/hearth-exit=\d+\n$/, ''), hearthExit: m ? Number(m[1]) : -1 })
    })
  })
}

/**
 * Node flags that record every module the process loads into `file` (synchronous module hooks), to check what a
 * command pulls in.
 */
function recordModules(file: string): string[] {
  const hook = [
    "import { registerHooks } from 'node:module';",
    "import { writeFileSync } from 'node:fs';",
    'const seen = [];',
    'registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r } });',
    `process.on('exit', () => writeFileSync(${JSON.stringify(file)}, seen.join('\\n')));`,
  ].join('')
  return ['--import', `data:text/javascript,${encodeURIComponent(hook)}`]
}

/** Starts `hearth --json start` and collects its event lines; resolves once the ready event is out. */
async function startDaemon(dataDir: string, name: string, children: ChildProcess[]): Promise<{ child: ChildProcess; events: Array<Record<string, unknown>> }> {
  const child = spawnCli(dataDir, ['--json', 'start', '--name', name])
  children.push(child)
  const events: Array<Record<string, unknown>> = []
  let buffer = ''
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString()
    let nl
    while ((nl = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>)
      buffer = buffer.slice(nl + 1)
    }
  })
  child.stderr!.on('data', () => {})
  await waitFor(() => events.some((e) => e.event === 'ready'), { timeoutMs: 90_000, message: `${name}'s daemon to be ready` })
  return { child, events }
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
  let relay: RelayProcess | undefined
  const children: ChildProcess[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hearth-cli-'))
    // Builds dist/cli once if the sources changed, rather than in several commands at once.
    await runOk(root, ['--help'])
  })
  afterAll(async () => {
    await Promise.allSettled(children.map(stopProcess))
    if (relay !== undefined) {
      await relay.stop()
      await removeRelayDir(relay)
    }
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
    expect(empty.stderr).toContain('error: no identity in')
    expect(empty.stderr).toContain('hearth init')
    // No passphrase given and no terminal to ask in: still the missing identity, not a call for a passphrase.
    const unasked = await run(join(root, 'nobody'), ['list'], { env: { HEARTH_PASSPHRASE: '' } })
    expect(unasked.code).toBe(1)
    expect(unasked.stderr).toContain('error: no identity in')
    expect(unasked.stderr).not.toContain('passphrase')

    // A new identity's passphrase is as long as the app asks for, from any source; nothing is created otherwise.
    const weak = await run(join(root, 'weak'), ['init'], { env: { HEARTH_PASSPHRASE: 'short' } })
    expect(weak.code).toBe(2)
    expect(weak.stderr).toContain('at least 8 characters')
    expect(existsSync(join(root, 'weak', 'identity.hks'))).toBe(false)

    const usage = await run(dir, ['create'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--group')
    expect((await run(dir, ['invite', 'x', '--expires', 'soon'])).code).toBe(2)
    // Said in the command's words before anything is opened, not as the API's parameter check.
    const tooLong = await run(dir, ['invite', 'x', '--expires', '400d'])
    expect(tooLong.code).toBe(2)
    expect(tooLong.stderr).toContain('at most 365 days')
    const noCode = await run(dir, ['join', ''])
    expect(noCode.code).toBe(2)
    expect(noCode.stderr).toContain('give the invite')
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

    // Removing oneself is refused with the way out; leaving works, and the history stays readable here.
    const self = await run(dir, ['remove', 'Book club', 'Solo Traveller'])
    expect(self.code).toBe(1)
    expect(self.stderr).toContain('leave the group instead')
    expect(await runOk(dir, ['leave', 'Book club'])).toContain('You left “Book club”')
    expect(await runOk(dir, ['list'])).toContain('Book club (left)')
  })

  it('against a daemon: built JavaScript with only the API client loaded, whole output into a slow pipe, plain words after a crash', async () => {
    const dir = join(root, 'daemon-solo')
    const { child: daemon } = await startDaemon(dir, 'Dora', children)

    // A command against a running core runs the build and loads none of the core's packages.
    const loaded = join(root, 'modules.txt')
    expect(await runOk(dir, ['list'], { nodeArgs: recordModules(loaded) })).toContain('No conversations yet')
    const urls = (await readFile(loaded, 'utf8')).split('\n')
    expect(urls.some((u) => u.includes('/dist/cli/'))).toBe(true)
    const heavy = urls.filter((u) => /\/node_modules\/(libp2p|@libp2p|@automerge|level|classic-level|zod|tsx)\//.test(u) || u.endsWith('.ts'))
    expect(heavy).toEqual([])

    // Nobody else in the conversation and no relay: send says the message is only saved here, and exits 0.
    const id = (JSON.parse(await runOk(dir, ['--json', 'create', '--group', 'Notes'])) as { conversation: { id: string } }).conversation.id
    const human = await run(dir, ['send', 'Notes', 'first'])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toContain('Saved to “Notes”, not sent yet: no member and no relay was reachable.')
    expect(human.stdout).toContain('The running daemon sends it as soon as one is.')
    const big = 'x'.repeat(15_000)
    for (let i = 0; i < 5; i++) {
      const sent = JSON.parse(await runOk(dir, ['--json', 'send', id, `${i} ${big}`])) as { state: string; message: { state: string } }
      expect(sent).toMatchObject({ state: 'saved', message: { state: 'pending' } })
    }

    expect(JSON.parse(await runOk(dir, ['--json', 'peers']))).toEqual({ running: true, peers: [], relays: [] })
    expect(await runOk(dir, ['peers'])).toContain('Not connected to any device.')

    // More than a pipe buffer (64 KiB) into a reader that waits before reading: all of it arrives.
    const slow = await pipeInto(dir, ['--json', 'read', 'Notes', '--limit', '10'], '(sleep 1.5; cat)')
    expect(slow.hearthExit, slow.stderr).toBe(0)
    expect(slow.stdout.length).toBeGreaterThan(70_000)
    const page = JSON.parse(slow.stdout) as { messages: Array<{ body: string }> }
    expect(page.messages.map((m) => m.body.length)).toEqual([5, 15_002, 15_002, 15_002, 15_002, 15_002])
    // A reader that is gone: exit 141 (as for SIGPIPE), and no stack trace.
    const gone = await pipeInto(dir, ['--json', 'read', 'Notes', '--limit', '10'], '(exec 0<&-; sleep 1)')
    expect(gone.hearthExit).toBe(141)
    expect(gone.stderr).toBe('')

    // The daemon dies without cleaning up: the next command says so plainly and removes the stale api.json.
    daemon.kill('SIGKILL')
    await new Promise((resolve) => daemon.once('exit', resolve))
    expect(existsSync(join(dir, 'api.json'))).toBe(true)
    const holder = spawnCli(dir, ['follow'])
    children.push(holder)
    let holderErr = ''
    holder.stderr!.on('data', (d: Buffer) => (holderErr += d.toString()))
    holder.stdout!.on('data', () => {})
    await waitFor(() => holderErr.includes('following'), { timeoutMs: 60_000, message: 'follow to open the data dir' })
    expect(holderErr).toContain(`note: the Hearth daemon for ${dir} is not running (it stopped or crashed); running this command on its own`)
    expect(existsSync(join(dir, 'api.json'))).toBe(false)

    // A command meeting the data dir in use by another one waits its turn, and says so in words that fit.
    const waiter = spawnCli(dir, ['list'])
    children.push(waiter)
    const waiterExit = new Promise<number | null>((resolve) => waiter.once('exit', (code) => resolve(code)))
    let waiterOut = ''
    let waiterErr = ''
    waiter.stdout!.on('data', (d: Buffer) => (waiterOut += d.toString()))
    waiter.stderr!.on('data', (d: Buffer) => (waiterErr += d.toString()))
    await waitFor(() => waiterErr.includes(`waiting: another Hearth process is using ${dir}`), { timeoutMs: 60_000, message: 'list to wait' })
    expect(await stopProcess(holder)).toBe(0)
    expect(await waiterExit).toBe(0)
    expect(waiterOut).toContain('Notes')
    expect(waiterErr).not.toContain('api.json')
    expect(await runOk(dir, ['send', 'Notes', 'second'])).toContain('It goes out the next time Hearth runs here')
  })

  it('two people: a daemon, an invite through its API, join, send, read and follow', async () => {
    const a = join(root, 'alice')
    const b = join(root, 'bob')
    // Alice's core uses a relay, which holds her messages for members who are offline.
    relay = await spawnRelay()
    const daemon = spawnCli(a, ['start', '--name', 'alice'], { HEARTH_RELAYS: relay.address })
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

    // Bob's daemon dials alice (remembered from the join) while it opens, often before its ready line: it reports her.
    const bobDaemon = await startDaemon(b, 'bob', children)
    await waitFor(
      () => bobDaemon.events.some((e) => e.event === 'peer.connected' && (e.peer as { displayName: string | null }).displayName === 'alice'),
      { timeoutMs: 20_000, message: "bob's daemon to report alice" },
    )
    const peers = JSON.parse(await runOk(b, ['--json', 'peers'])) as { running: boolean; peers: Array<{ displayName: string | null }> }
    expect(peers.running).toBe(true)
    expect(peers.peers.map((p) => p.displayName)).toContain('alice')
    expect(await runOk(b, ['peers'])).toMatch(/alice\s+12D3Koo/)
    // Alice's device is online: send waits for her receipt and says the message reached it.
    const delivered = JSON.parse(await runOk(b, ['--json', 'send', 'Family', 'are you there?'])) as { state: string }
    expect(delivered.state).toBe('delivered')
    expect(await runOk(b, ['send', 'Family', 'good'])).toContain("delivered to a member's device")
    expect(await stopProcess(bobDaemon.child)).toBe(0)

    // Bob is offline now: alice's message waits at the relay, and send says so.
    await waitFor(
      async () => {
        const members = JSON.parse(await runOk(a, ['--json', 'members', 'Family'])) as Array<{ me: boolean; devices: Array<{ online: boolean }> }>
        return members.filter((m) => !m.me).every((m) => m.devices.every((d) => !d.online))
      },
      { timeoutMs: 20_000, intervalMs: 250, message: 'alice to see bob offline' },
    )
    const relayed = JSON.parse(await runOk(a, ['--json', 'send', 'Family', 'see you later'])) as { state: string; message: { state: string } }
    expect(relayed).toMatchObject({ state: 'relayed', message: { state: 'sent' } })
    expect(await runOk(a, ['send', 'Family', 'bye'])).toContain('no member is online, so a relay holds it until one comes online')

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
    // Some thirty commands, three daemons and a relay, each a process with its own start-up: on a busy 2-core machine
    // that takes longer than the project's default allowance.
  }, 300_000)
})
