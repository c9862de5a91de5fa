/**
 * `hearth://join/…` (full) and `hearth://j/…` (short) invite links the app is opened with. The Electron shell owns the protocol handler and hands links over
 * through the bridge (`window.hearth.onDeepLink`); the UI only ever shows them in the join dialog for the person to
 * confirm, never joins by itself (a link in a web page must not be able to put someone into a conversation).
 */
export const JOIN_PREFIX = 'hearth://join/'
export const SHORT_JOIN_PREFIX = 'hearth://j/'

/** The invite code in a link, or null when it is not a join link. Invite codes are the link itself. */
export function joinCodeOf(url: string): string | null {
  const text = url.trim()
  const lower = text.toLowerCase()
  const prefix = [JOIN_PREFIX, SHORT_JOIN_PREFIX].find((p) => lower.startsWith(p))
  return prefix !== undefined && text.length > prefix.length && text.length <= 4096 ? text : null
}

export function subscribeDeepLinks(win: Window, onJoin: (code: string) => void): () => void {
  const off = win.hearth?.onDeepLink?.((url) => {
    const code = joinCodeOf(url)
    if (code !== null) onJoin(code)
  })
  return off ?? (() => {})
}

/** Conversations the shell asks to show (a notification was clicked). Ids are checked like every API id. */
export function subscribeOpenConversation(win: Window, onOpen: (conversationId: string) => void): () => void {
  const off = win.hearth?.onOpenConversation?.((id) => {
    if (/^[0-9a-f]{32}$/.test(id)) onOpen(id)
  })
  return off ?? (() => {})
}
