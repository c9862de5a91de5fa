import type { CoreStore, Put } from '../store/core-store.js'

/**
 * Durable before told, in one place: the writes of one step and what to announce once they are on disk. Nothing is
 * announced when the write fails, so no event, receipt or reply ever speaks of something a crash could lose.
 */
export class UnitOfWork {
  private readonly puts: Put[] = []
  private readonly announcements: Array<() => void> = []

  constructor(private readonly store: CoreStore) {}

  put(...puts: Put[]): this {
    this.puts.push(...puts)
    return this
  }

  /** Runs after the commit succeeded, in the order given. */
  announce(fn: () => void): this {
    this.announcements.push(fn)
    return this
  }

  get size(): number {
    return this.puts.length
  }

  /**
   * Writes everything in one batch (`synced`: fsync before returning, for what was acknowledged or is about to be),
   * then announces. A batch with nothing in it still announces.
   */
  async commit(synced: boolean): Promise<void> {
    if (this.puts.length > 0) await this.store.commit(this.puts, synced)
    for (const fn of this.announcements) fn()
  }
}
