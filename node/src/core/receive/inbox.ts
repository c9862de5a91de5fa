import { drop } from '../../../common/errors.js'
import type { ConversationId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import type { Arrival } from './ingest.js'

/**
 * Gossip as it arrives, batched: whatever arrives before the next turn of the event loop is ingested in one task on
 * the core's queue (one Automerge apply per shard, one synced write).
 */
export class Inbox {
  private readonly waiting = new Map<ConversationId, Arrival[]>()
  private scheduled = false

  constructor(
    private readonly kernel: Kernel,
    private readonly ingest: (rt: ConversationRuntime, items: Arrival[]) => Promise<void>,
  ) {}

  enqueue(id: ConversationId, bytes: Uint8Array, from: string | null): void {
    let list = this.waiting.get(id)
    if (!list) this.waiting.set(id, (list = []))
    list.push({ bytes, from })
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => drop(this.flush(), (err) => this.kernel.log.error({ err }, 'ingest failed')))
  }

  async flush(): Promise<void> {
    this.scheduled = false
    const work = [...this.waiting.entries()]
    this.waiting.clear()
    for (const [id, items] of work) {
      await this.kernel.queue.run(async () => {
        const rt = this.kernel.conversations.get(id)
        if (rt) await this.ingest(rt, items)
      })
    }
  }
}
