/**
 * Where each conversation's unsent text is kept so it survives a reload, a reconnect and an app restart.
 *
 * It is the page's localStorage, and that is the right store for now:
 *  - it is the copy that works offline: the core also keeps each draft (drafts.get/drafts.set, in its sealed own-sync
 *    map, so it follows the person to their other devices: state/drafts.ts), but the API may be down or reconnecting
 *    while the person types, and sessionStorage ends with the window (the desktop app's renderer is new each start);
 *  - the origin is stable: `app://` in the desktop app, and `http://127.0.0.1:<port>` in the browser mode, whose port
 *    is kept across restarts (browser-session.ts), so the same drafts come back;
 *  - it is synchronous and small-text friendly, so a draft is written on every change and nothing typed is lost to a
 *    crash or a closed window (IndexedDB would be the same place on disk with more code around it).
 * The cost: drafts sit in the browser profile unencrypted, outside the core's sealed store, so someone holding the
 * disk can read text a person has not sent yet (sent text's draft is removed). When that matters, the core's copy can
 * be the only one; this interface is the one seam to change.
 */

export interface DraftStorage {
  /** Every kept draft, by conversation id. */
  load(): Map<string, string>
  /** Keeps `text` (removes the draft when empty). False when the store refused it (full, or not available). */
  save(conversationId: string, text: string): boolean
}

const PREFIX = 'hearth.draft.'

/** `storage` is the page's localStorage unless a test passes its own; with null, nothing is kept. */
export function localDraftStorage(storage: Storage | null = pageStorage()): DraftStorage {
  return {
    load() {
      const drafts = new Map<string, string>()
      if (storage === null) return drafts
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i)
        if (key === null || !key.startsWith(PREFIX)) continue
        const text = storage.getItem(key)
        if (text !== null && text.length > 0) drafts.set(key.slice(PREFIX.length), text)
      }
      return drafts
    },
    save(conversationId, text) {
      if (storage === null) return false
      try {
        if (text.length === 0) storage.removeItem(PREFIX + conversationId)
        else storage.setItem(PREFIX + conversationId, text)
        return true
      } catch {
        // Over the origin's quota (a few megabytes): the draft is kept in memory for this run only. An older, shorter
        // copy must not come back after a restart as if it were the latest.
        try {
          storage.removeItem(PREFIX + conversationId)
        } catch {
          // nothing more to do
        }
        return false
      }
    },
  }
}

function pageStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null
  } catch {
    // Some browsers throw on access when storage is disabled for the site.
    return null
  }
}
