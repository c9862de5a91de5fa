/**
 * Shown over the messages while the person reads further up: back to the newest message in one click, with how many
 * new messages wait below (the conversation's unread count: reaching the newest is what marks them read). The count
 * is part of the button's name as it is shown ("Jump to latest 3 new messages"), so what is seen is what is heard.
 */
export function JumpToLatest({ unread, onJump }: { unread: number; onJump(): void }) {
  return (
    <button type="button" className="jump-latest" onClick={onJump}>
      <span aria-hidden="true">↓</span> Jump to latest
      {unread > 0 && (
        <>
          {' '}
          <span className="jump-count">{unread > 99 ? '99+' : unread}</span>
          <span className="visually-hidden"> new {unread === 1 ? 'message' : 'messages'}</span>
        </>
      )}
    </button>
  )
}
