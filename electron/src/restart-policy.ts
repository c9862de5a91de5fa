/**
 * When the core's utility process dies unexpectedly it is started again, with exponential backoff so a core that
 * crashes at start-up (a damaged database, a bad update) does not spin the CPU, and a cap after which the shell stops
 * and tells the person instead of trying forever. A core that ran stably for a while before dying starts the count
 * afresh: one crash a day is not a crash loop.
 */

export interface RestartPolicyOptions {
  /** Delay before the first restart. */
  baseDelayMs?: number
  /** Ceiling of the delay. */
  maxDelayMs?: number
  /** Consecutive quick deaths after which we give up. */
  maxConsecutiveFailures?: number
  /** Uptime after which a death no longer counts as consecutive with the previous ones. */
  stableAfterMs?: number
}

export type RestartDecision = { action: 'restart'; delayMs: number; attempt: number } | { action: 'give-up'; failures: number }

export const DEFAULT_RESTART_POLICY: Required<RestartPolicyOptions> = {
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxConsecutiveFailures: 6,
  stableAfterMs: 60_000,
}

export class RestartPolicy {
  private readonly options: Required<RestartPolicyOptions>
  private failures = 0
  private startedAt: number | undefined

  constructor(options: RestartPolicyOptions = {}) {
    this.options = { ...DEFAULT_RESTART_POLICY, ...options }
  }

  /** The process was (re)started at `now` (ms). */
  started(now: number): void {
    this.startedAt = now
  }

  /** The process died unexpectedly at `now`: restart after a delay, or give up. */
  died(now: number): RestartDecision {
    const uptime = this.startedAt === undefined ? 0 : now - this.startedAt
    this.startedAt = undefined
    if (uptime >= this.options.stableAfterMs) this.failures = 0
    this.failures++
    if (this.failures > this.options.maxConsecutiveFailures) return { action: 'give-up', failures: this.failures - 1 }
    const delayMs = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (this.failures - 1))
    return { action: 'restart', delayMs, attempt: this.failures }
  }

  /** The person asked to try again after we gave up: a fresh count. */
  reset(): void {
    this.failures = 0
  }
}
