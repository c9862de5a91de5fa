/**
 * Runs tasks one at a time in arrival order. The core has one writer per conversation state; funnelling every
 * mutation through one queue keeps the read-modify-write of chains, streams and shards free of interleaving.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task)
    this.tail = result.catch(() => {})
    return result
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => {})
  }
}
