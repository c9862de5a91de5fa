/**
 * Shown over the messages while the person reads further up: back to the newest message in one click, with how many
 * new messages wait below (the conversation's unread count: reaching the newest is what marks them read).
 */
export function JumpToLatest({ unread, onJump }: { unread: number; onJump(): void }) {
  const label = unread > 0 ? `Jump to latest, ${unread} new ${unread === 1 ? 'message' : 'messages'}` : undefined
  return (
    <button type="button" className="jump-latest" onClick={onJump} aria-label={label}>
      <span aria-hidden="true">↓</span>
      Jump to latest
      {unread > 0 && (
        <span className="jump-count" aria-hidden="true">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </button>
  )
}
