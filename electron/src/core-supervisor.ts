/**
 * Runs the core in its utility process: starts it, hands it the API ports of windows (queued until it is ready),
 * answers its keychain requests, restarts it with backoff when it dies, and shuts it down cleanly on quit (ask, wait
 * with a timeout, then kill). The process is injected (main.ts spawns it with `utilityProcess.fork`), so every
 * transition is tested without Electron.
 */
import { drop } from '../../node/common/errors.js'
import { parseFromCore, type ToCore } from './core-protocol.js'
import { RestartPolicy } from './restart-policy.js'
import type { KeyService } from './safe-storage.js'

/** The part of Electron's `UtilityProcess` used here. */
export interface CoreChild<Port> {
  postMessage(message: ToCore, transfer?: Port[]): void
  kill(): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
  on(event: 'exit', listener: (code: number) => void): unknown
}

export type SupervisorState = 'idle' | 'starting' | 'running' | 'waiting' | 'failed' | 'stopping' | 'stopped'

export interface SupervisorLog {
  info(message: string, detail?: Record<string, unknown>): void
  warn(message: string, detail?: Record<string, unknown>): void
}

export interface SupervisorOptions<Port> {
  spawn(): CoreChild<Port>
  keys: KeyService
  /** Closes a port that can no longer be delivered (shutting down). */
  closePort(port: Port): void
  policy?: RestartPolicy
  /** A core that has not said `ready` by then is killed (and counts as a crash). */
  readyTimeoutMs?: number
  /** How long a clean shutdown may take before the process is killed. */
  shutdownTimeoutMs?: number
  now?: () => number
  /** Each time a core becomes ready; `restarted` is false for the first one. */
  onReady?(info: { restarted: boolean }): void
  /** The core died; `willRestartInMs` is null when we gave up. */
  onDied?(info: { code: number; willRestartInMs: number | null }): void
  onState?(state: SupervisorState): void
  log?: SupervisorLog
}

const silentLog: SupervisorLog = { info: () => {}, warn: () => {} }

export class CoreSupervisor<Port> {
  private readonly policy: RestartPolicy
  private readonly readyTimeoutMs: number
  private readonly shutdownTimeoutMs: number
  private readonly now: () => number
  private readonly log: SupervisorLog
  private child: CoreChild<Port> | undefined
  private queued: Port[] = []
  private stateValue: SupervisorState = 'idle'
  private readyTimer: ReturnType<typeof setTimeout> | undefined
  private restartTimer: ReturnType<typeof setTimeout> | undefined
  private everReady = false
  private exited: (() => void) | undefined
  private stopping: Promise<void> | undefined

  constructor(private readonly options: SupervisorOptions<Port>) {
    this.policy = options.policy ?? new RestartPolicy()
    this.readyTimeoutMs = options.readyTimeoutMs ?? 60_000
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000
    this.now = options.now ?? Date.now
    this.log = options.log ?? silentLog
  }

  get state(): SupervisorState {
    return this.stateValue
  }

  start(): void {
    if (this.stateValue !== 'idle' && this.stateValue !== 'failed') return
    this.spawn()
  }

  /** After we gave up: the person asked to try again. */
  retry(): void {
    if (this.stateValue !== 'failed') return
    this.policy.reset()
    this.spawn()
  }

  /** Hands `port` to the core to serve the API on; held until a core is ready. */
  connect(port: Port): void {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') {
      this.options.closePort(port)
      return
    }
    if (this.stateValue === 'running' && this.child !== undefined) this.deliver(this.child, port)
    else this.queued.push(port)
  }

  /** Asks the core to close, waits up to the timeout, then kills it. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= this.stop()
    return this.stopping
  }

  private async stop(): Promise<void> {
    clearTimeout(this.restartTimer)
    clearTimeout(this.readyTimer)
    this.setState('stopping')
    for (const port of this.queued.splice(0)) this.options.closePort(port)
    const child = this.child
    if (child !== undefined) {
      const exited = new Promise<void>((resolve) => (this.exited = resolve))
      try {
        child.postMessage({ type: 'shutdown' })
      } catch {
        // the process is already going away
      }
      if (!(await settlesWithin(exited, this.shutdownTimeoutMs))) {
        this.log.warn('the core did not exit in time; killing it', { timeoutMs: this.shutdownTimeoutMs })
        child.kill()
        await settlesWithin(exited, 2_000)
      }
    }
    this.child = undefined
    this.setState('stopped')
  }

  private spawn(): void {
    this.setState('starting')
    const child = this.options.spawn()
    this.child = child
    this.policy.started(this.now())
    child.on('message', (raw) => this.onMessage(child, raw))
    child.on('exit', (code) => this.onExit(child, code))
    this.readyTimer = setTimeout(() => {
      if (this.child !== child || this.stateValue !== 'starting') return
      this.log.warn('the core did not become ready in time; killing it', { timeoutMs: this.readyTimeoutMs })
      child.kill()
    }, this.readyTimeoutMs)
  }

  private onMessage(child: CoreChild<Port>, raw: unknown): void {
    if (child !== this.child) return
    const message = parseFromCore(raw)
    if (message === null) return
    switch (message.type) {
      case 'ready': {
        if (this.stateValue !== 'starting') return
        clearTimeout(this.readyTimer)
        this.setState('running')
        for (const port of this.queued.splice(0)) this.deliver(child, port)
        const restarted = this.everReady
        this.everReady = true
        this.options.onReady?.({ restarted })
        return
      }
      case 'keys.request':
        drop(
          this.options.keys.handle(message).then((result) => {
            if (this.child === child) child.postMessage(result)
          }),
          (err) => this.log.warn('keychain request failed', { err }),
        )
        return
      case 'closed':
        return
    }
  }

  private onExit(child: CoreChild<Port>, code: number): void {
    if (child !== this.child) return
    clearTimeout(this.readyTimer)
    if (this.stateValue === 'stopping') {
      this.exited?.()
      return
    }
    this.child = undefined
    const decision = this.policy.died(this.now())
    if (decision.action === 'give-up') {
      this.log.warn('the core keeps dying; giving up', { code, failures: decision.failures })
      this.setState('failed')
      this.options.onDied?.({ code, willRestartInMs: null })
      return
    }
    this.log.warn('the core died; restarting', { code, delayMs: decision.delayMs, attempt: decision.attempt })
    this.setState('waiting')
    this.options.onDied?.({ code, willRestartInMs: decision.delayMs })
    this.restartTimer = setTimeout(() => {
      if (this.stateValue === 'waiting') this.spawn()
    }, decision.delayMs)
  }

  private deliver(child: CoreChild<Port>, port: Port): void {
    try {
      child.postMessage({ type: 'connect' }, [port])
    } catch (err) {
      this.log.warn('could not hand a port to the core', { err })
      this.options.closePort(port)
    }
  }

  private setState(state: SupervisorState): void {
    if (state === this.stateValue) return
    this.stateValue = state
    this.options.onState?.(state)
  }
}

function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    drop(promise.then(() => {
      clearTimeout(timer)
      resolve(true)
    }))
  })
}
