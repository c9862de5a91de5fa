import type { DraftStorage } from '../lib/draft-storage.js'

/**
 * Drafts per conversation. With a storage (the app passes the page's localStorage: see lib/draft-storage.ts for why
 * that store, and what it costs) they survive a reload and a restart; without one they last while the app runs.
 */
export class Drafts {
  private readonly drafts: Map<string, string>

  constructor(private readonly storage?: DraftStorage) {
    this.drafts = storage?.load() ?? new Map()
  }

  get(conversationId: string): string {
    return this.drafts.get(conversationId) ?? ''
  }

  set(conversationId: string, text: string): void {
    if (text.length === 0) this.drafts.delete(conversationId)
    else this.drafts.set(conversationId, text)
    this.storage?.save(conversationId, text)
  }

  has(conversationId: string): boolean {
    return this.drafts.has(conversationId)
  }
}
