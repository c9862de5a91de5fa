/**
 * Drafts per conversation, kept while the app runs. They are deliberately not written to localStorage: that would put
 * unsent message text on disk in the clear, outside the core's encrypted store.
 */
export class Drafts {
  private readonly drafts = new Map<string, string>()

  get(conversationId: string): string {
    return this.drafts.get(conversationId) ?? ''
  }

  set(conversationId: string, text: string): void {
    if (text.length === 0) this.drafts.delete(conversationId)
    else this.drafts.set(conversationId, text)
  }

  has(conversationId: string): boolean {
    return this.drafts.has(conversationId)
  }
}
