import type { Api } from '../api/client.js'
import type { DraftStorage } from '../lib/draft-storage.js'

/** The core's drafts, which follow the person across their devices (node/src/core/devices/own-sync-drafts.ts). */
export interface DraftSync {
  get(conversationId: string): Promise<string>
  set(conversationId: string, text: string): Promise<unknown>
  /** A newer draft from another of the person's devices. Returns the unsubscribe. */
  onChanged(listener: (conversationId: string, text: string) => void): () => void
}

/** What the core keeps of one draft (contract.ts `drafts.set`): longer ones stay on this device only. */
export const MAX_SYNCED_DRAFT_CHARS = 65_536

export function apiDraftSync(api: Api): DraftSync {
  return {
    get: async (conversationId) => (await api.call('drafts.get', { conversationId })).text,
    set: (conversationId, text) => api.call('drafts.set', { conversationId, text }),
    onChanged: (listener) => api.on('draft.changed', ({ conversation, text }) => listener(conversation, text)),
  }
}

/** A mounted composer: whether the person typed since it opened, and a draft from elsewhere waiting for it to close. */
interface OpenComposer {
  typed: boolean
  waiting?: string
}

/**
 * Drafts per conversation. With a storage (the app passes the page's localStorage: see lib/draft-storage.ts for why
 * that store, and what it costs) they survive a reload and a restart; without one they last while the app runs.
 *
 * Connected to the core (`connect`), they also follow the person across their devices: the local copy is written at
 * once (offline first) and sent to the core a moment after typing stops, and at once when the composer closes or the
 * draft is cleared (sent). A draft from another device replaces the stored one, but never the text of a composer that
 * is open: that one waits until the composer closes, and is dropped if the person typed meanwhile.
 */
export class Drafts {
  private readonly drafts: Map<string, string>
  private remote: DraftSync | undefined
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()
  /** Conversations whose composer is mounted, and whether the person typed in it since it opened. */
  private readonly opened = new Map<string, OpenComposer>()
  private readonly listeners = new Set<(conversationId: string) => void>()

  constructor(
    private readonly storage?: DraftStorage,
    private readonly debounceMs = 800,
  ) {
    this.drafts = storage?.load() ?? new Map()
  }

  /** Follows the core's drafts; returns the disconnect (which first sends what is waiting). */
  connect(remote: DraftSync): () => void {
    this.remote = remote
    const off = remote.onChanged((id, text) => this.changedElsewhere(id, text))
    // A composer may have opened first (a child's effect runs before its parent's).
    for (const [id, state] of this.opened) this.fetch(id, state)
    return () => {
      for (const id of [...this.timers.keys()]) this.flush(id)
      off()
      if (this.remote === remote) this.remote = undefined
    }
  }

  get(conversationId: string): string {
    return this.drafts.get(conversationId) ?? ''
  }

  /** The person changed the draft. */
  set(conversationId: string, text: string): void {
    this.keep(conversationId, text)
    const open = this.opened.get(conversationId)
    if (open !== undefined) open.typed = true
    if (this.remote === undefined) return
    this.clearTimer(conversationId)
    // A cleared draft (usually: just sent) goes at once, so no other device shows what was already sent.
    if (text.length === 0) this.push(conversationId)
    else this.timers.set(conversationId, setTimeout(() => this.flush(conversationId), this.debounceMs))
  }

  has(conversationId: string): boolean {
    return this.drafts.has(conversationId)
  }

  /** Sends a draft waiting for the debounce now. */
  flush(conversationId: string): void {
    if (!this.timers.has(conversationId)) return
    this.clearTimer(conversationId)
    this.push(conversationId)
  }

  /**
   * The composer of a conversation is mounted: its text is the person's from now on. With no draft here, the core's
   * (from another device) is fetched and, if the person has not typed yet, taken (told through `onReplaced`).
   * Returns the close: sends what waits, and takes a draft that arrived meanwhile if the person did not type.
   */
  open(conversationId: string): () => void {
    const state: OpenComposer = { typed: false }
    this.opened.set(conversationId, state)
    this.fetch(conversationId, state)
    return () => {
      if (this.opened.get(conversationId) !== state) return
      this.opened.delete(conversationId)
      this.flush(conversationId)
      if (state.waiting !== undefined && !state.typed) this.keep(conversationId, state.waiting)
    }
  }

  /** Tells of a draft replaced in an open composer's conversation (fetched on opening). Returns the unsubscribe. */
  onReplaced(listener: (conversationId: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private fetch(conversationId: string, state: OpenComposer): void {
    const remote = this.remote
    if (remote === undefined || this.get(conversationId) !== '') return
    remote.get(conversationId).then(
      (text) => {
        if (this.opened.get(conversationId) !== state || state.typed || text === '' || this.get(conversationId) !== '') return
        this.keep(conversationId, text)
        for (const listener of this.listeners) listener(conversationId)
      },
      () => {
        // Offline: the local draft (none) stands.
      },
    )
  }

  private changedElsewhere(conversationId: string, text: string): void {
    const open = this.opened.get(conversationId)
    if (open !== undefined) open.waiting = text
    else this.keep(conversationId, text)
  }

  private keep(conversationId: string, text: string): void {
    if (text.length === 0) this.drafts.delete(conversationId)
    else this.drafts.set(conversationId, text)
    this.storage?.save(conversationId, text)
  }

  private push(conversationId: string): void {
    const text = this.get(conversationId)
    if (this.remote === undefined || text.length > MAX_SYNCED_DRAFT_CHARS) return
    this.remote.set(conversationId, text).catch(() => {
      // Offline or refused: the draft is still kept here, and goes with the next change.
    })
  }

  private clearTimer(conversationId: string): void {
    const timer = this.timers.get(conversationId)
    if (timer !== undefined) clearTimeout(timer)
    this.timers.delete(conversationId)
  }
}
