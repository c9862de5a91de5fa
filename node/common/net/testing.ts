/**
 * Test helpers for the network layer. Tests wait on conditions, never on fixed sleeps: a sleep long enough for a
 * loaded CI machine wastes seconds everywhere else, and one short enough is flaky.
 */

export interface WaitOptions {
  /**
   * 20 s unless given: a condition that holds returns at once, so a generous deadline costs nothing on a quiet machine
   * and keeps a 2-core machine running several suites from failing tests whose network round trips merely queued.
   */
  timeoutMs?: number
  intervalMs?: number
  message?: string
}

/** Polls `condition` until it returns a truthy value (which is returned) or the deadline passes (which throws). */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  const interval = options.intervalMs ?? 10
  let lastError: unknown
  for (;;) {
    try {
      const value = await condition()
      if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out waiting for ${options.message ?? 'condition'}${detail}`)
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
