import { EventEmitter } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ToCore } from './core-protocol.js'
import { formatCoreArgs, parseCoreArgs } from './core-protocol.js'
import { CoreSupervisor, type CoreChild, type SupervisorState } from './core-supervisor.js'
import { RestartPolicy } from './restart-policy.js'
import type { KeyService } from './safe-storage.js'

/** A utility process as the supervisor sees it: it records what main sends and the test plays the core's part. */
class FakeChild extends EventEmitter implements CoreChild<string> {
  readonly sent: Array<{ message: ToCore; transfer: string[] }> = []
  killed = false
  /** What the child does when asked to shut down. */
  onShutdown: 'exit' | 'hang' = 'exit'
  postMessage(message: ToCore, transfer: string[] = []) {
    this.sent.push({ message, transfer })
    if (message.type === 'shutdown' && this.onShutdown === 'exit') queueMicrotask(() => this.emit('exit', 0))
  }
  kill() {
    this.killed = true
    queueMicrotask(() => this.emit('exit', 9))
    return true
  }
  ready() {
    this.emit('message', { type: 'ready' })
  }
  die(code = 1) {
    this.emit('exit', code)
  }
  ports(): string[] {
    return this.sent.filter((s) => s.message.type === 'connect').flatMap((s) => s.transfer)
  }
}

const keys: KeyService = {
  status: { usable: true, backend: 'test' },
  handle: (request) => Promise.resolve({ type: 'keys.result', id: request.id, ok: true, data: request.data }),
}

function supervised(options: { policy?: RestartPolicy; shutdownTimeoutMs?: number; readyTimeoutMs?: number } = {}) {
  const children: FakeChild[] = []
  const states: SupervisorState[] = []
  const closed: string[] = []
  const readies: boolean[] = []
  const deaths: Array<number | null> = []
  let now = 0
  const supervisor = new CoreSupervisor<string>({
    spawn: () => {
      const child = new FakeChild()
      children.push(child)
      return child
    },
    keys,
    closePort: (port) => closed.push(port),
    now: () => now,
    onState: (s) => states.push(s),
    onReady: ({ restarted }) => readies.push(restarted),
    onDied: ({ willRestartInMs }) => deaths.push(willRestartInMs),
    ...options,
  })
  return { supervisor, children, states, closed, readies, deaths, advance: (ms: number) => ((now += ms), vi.advanceTimersByTime(ms)) }
}

describe('the core supervisor', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('starts the core and holds ports until it is ready', () => {
    const { supervisor, children, readies } = supervised()
    supervisor.start()
    expect(supervisor.state).toBe('starting')
    supervisor.connect('window-1')
    expect(children[0]!.ports()).toEqual([])
    children[0]!.ready()
    expect(supervisor.state).toBe('running')
    expect(children[0]!.ports()).toEqual(['window-1'])
    supervisor.connect('window-2')
    expect(children[0]!.ports()).toEqual(['window-1', 'window-2'])
    expect(readies).toEqual([false])
  })

  it('answers the core’s keychain requests', async () => {
    const { supervisor, children } = supervised()
    supervisor.start()
    children[0]!.ready()
    children[0]!.emit('message', { type: 'keys.request', id: 7, op: 'encrypt', data: 'AAAA' })
    children[0]!.emit('message', { type: 'keys.request', id: 8, op: 'format-disk', data: 'AAAA' }) // ignored
    await vi.runAllTimersAsync()
    expect(children[0]!.sent.map((s) => s.message)).toEqual([{ type: 'keys.result', id: 7, ok: true, data: 'AAAA' }])
  })

  it('restarts a dead core with backoff, and tells the window it was a restart', () => {
    const { supervisor, children, readies, deaths, advance } = supervised({ policy: new RestartPolicy({ baseDelayMs: 100 }) })
    supervisor.start()
    children[0]!.ready()
    children[0]!.die()
    expect(supervisor.state).toBe('waiting')
    expect(deaths).toEqual([100])
    supervisor.connect('window-after-crash') // queued for the next core
    advance(99)
    expect(children).toHaveLength(1)
    advance(1)
    expect(children).toHaveLength(2)
    children[1]!.ready()
    expect(children[1]!.ports()).toEqual(['window-after-crash'])
    expect(readies).toEqual([false, true])
    children[1]!.die()
    expect(deaths).toEqual([100, 200])
  })

  it('gives up after repeated quick deaths, and starts again when asked', () => {
    const { supervisor, children, deaths, advance } = supervised({ policy: new RestartPolicy({ baseDelayMs: 10, maxConsecutiveFailures: 2 }) })
    supervisor.start()
    children[0]!.die()
    advance(10)
    children[1]!.die()
    advance(20)
    children[2]!.die()
    expect(supervisor.state).toBe('failed')
    expect(deaths).toEqual([10, 20, null])
    advance(60_000)
    expect(children).toHaveLength(3)
    supervisor.retry()
    expect(children).toHaveLength(4)
  })

  it('kills a core that never becomes ready (and restarts it)', () => {
    const { supervisor, children, advance } = supervised({ readyTimeoutMs: 1_000 })
    supervisor.start()
    advance(1_000)
    expect(children[0]!.killed).toBe(true)
  })

  it('shuts down cleanly: asks, waits for the exit, does not restart', async () => {
    const { supervisor, children, closed, states } = supervised()
    supervisor.start()
    supervisor.connect('queued')
    const done = supervisor.shutdown()
    await vi.runAllTimersAsync()
    await done
    expect(children[0]!.sent.map((s) => s.message.type)).toEqual(['shutdown'])
    expect(children[0]!.killed).toBe(false)
    expect(closed).toEqual(['queued'])
    expect(supervisor.state).toBe('stopped')
    expect(states.at(-1)).toBe('stopped')
    expect(children).toHaveLength(1)
    supervisor.connect('late')
    expect(closed).toEqual(['queued', 'late'])
  })

  it('kills a core that does not exit within the shutdown timeout', async () => {
    const { supervisor, children } = supervised({ shutdownTimeoutMs: 5_000 })
    supervisor.start()
    children[0]!.ready()
    children[0]!.onShutdown = 'hang'
    const done = supervisor.shutdown()
    await vi.advanceTimersByTimeAsync(4_999)
    expect(children[0]!.killed).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(children[0]!.killed).toBe(true)
    expect(supervisor.state).toBe('stopped')
    expect(children).toHaveLength(1)
  })

  it('does not start a pending restart once shutting down', async () => {
    const { supervisor, children, advance } = supervised({ policy: new RestartPolicy({ baseDelayMs: 100 }) })
    supervisor.start()
    children[0]!.die()
    const done = supervisor.shutdown()
    advance(1_000)
    await done
    expect(children).toHaveLength(1)
  })
})

describe('the core process arguments', () => {
  it('round-trip, and Electron’s own switches around them are ignored', () => {
    const args = { dataDir: '/home/a b/data', keychain: true, logFile: '/home/a b/logs/core.log', runtime: { electron: '45.4.1' } }
    expect(parseCoreArgs(['/path/electron', '--type=utility', ...formatCoreArgs(args), '--enable-logging'])).toEqual(args)
    expect(() => parseCoreArgs(['--data-dir', '/x', '--log-file', '/y'])).toThrow(/keychain/)
    expect(() => parseCoreArgs(['--keychain', 'maybe', '--data-dir', '/x', '--log-file', '/y'])).toThrow(/keychain/)
  })
})
