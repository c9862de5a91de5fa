import { describe, expect, it } from 'vitest'
import { RestartPolicy } from './restart-policy.js'

describe('the core restart policy', () => {
  it('backs off exponentially up to a ceiling, then gives up', () => {
    const policy = new RestartPolicy({ baseDelayMs: 100, maxDelayMs: 1_000, maxConsecutiveFailures: 5, stableAfterMs: 60_000 })
    const delays: number[] = []
    let now = 0
    for (;;) {
      policy.started(now)
      now += 10 // dies at once
      const decision = policy.died(now)
      if (decision.action === 'give-up') {
        expect(decision.failures).toBe(5)
        break
      }
      delays.push(decision.delayMs)
      now += decision.delayMs
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000])
  })

  it('forgets past crashes after a stable run', () => {
    const policy = new RestartPolicy({ baseDelayMs: 100, maxConsecutiveFailures: 2, stableAfterMs: 1_000 })
    policy.started(0)
    expect(policy.died(10)).toMatchObject({ action: 'restart', delayMs: 100 })
    policy.started(110)
    expect(policy.died(120)).toMatchObject({ action: 'restart', delayMs: 200 })
    policy.started(320)
    expect(policy.died(5_000)).toMatchObject({ action: 'restart', delayMs: 100, attempt: 1 })
  })

  it('starts afresh when the person asks to retry', () => {
    const policy = new RestartPolicy({ maxConsecutiveFailures: 1 })
    policy.started(0)
    policy.died(1)
    policy.started(2)
    expect(policy.died(3).action).toBe('give-up')
    policy.reset()
    policy.started(4)
    expect(policy.died(5).action).toBe('restart')
  })
})
