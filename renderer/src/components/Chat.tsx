import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react'
import type { ConversationSummary, MessageView } from '../../../node/src/api/types.js'
import { errorText, type Api } from '../api/client.js'
import { useApi } from '../api/context.js'
import { useChat } from '../hooks/useChat.js'
import { useMembers } from '../hooks/useMembers.js'
import { useRemovedMembers } from '../hooks/useRemovedMembers.js'
import { useSystemLines } from '../hooks/useSystemLines.js'
import { useTyping } from '../hooks/useTyping.js'
import { startOfDay } from '../lib/time.js'
import { firstUnreadId, lastEditable } from '../lib/unread.js'
import { buildItems } from '../state/items.js'
import type { Drafts } from '../state/drafts.js'
import { Composer, DEFAULT_MAX_FILE_BYTES, type ComposerHandle, type SendExtras } from './Composer.js'
import { ErrorNote } from './Dialog.js'
import { GroupInfoDialog } from './GroupInfoDialog.js'
import { HistoryBanner, historyPercent } from './HistoryProgress.js'
import { JumpToLatest } from './JumpToLatest.js'
import { MediaProvider } from './MediaProvider.js'
import { MessageList } from './MessageList.js'
import { ListRow, type RowActions } from './MessageRow.js'
import { TypingIndicator } from './TypingIndicator.js'

export interface ChatProps {
  conversation: ConversationSummary
  drafts: Drafts
  onInvite(): void
  onMembers(): void
  /** Whether to put the cursor in the composer (when the person opened this chat themselves). */
  focusComposer: boolean
  /** The current time, ticking slowly: day labels ("Today") are relative to it. */
  now: number
}

/** One conversation: header, the message log, the composer. Mounted per conversation (keyed by id). */
export function Chat({ conversation, drafts, onInvite, onMembers, focusComposer, now }: ChatProps) {
  const api = useApi()
  const conversationId = conversation.id
  const chat = useChat(api, conversationId)
  const { state } = chat
  const { names: memberNames, list: memberList } = useMembers(api, conversationId)
  // Removed members keep the name they last had on what they wrote, not the one their messages were loaded under.
  const removed = useRemovedMembers(api, conversationId, true)
  const names = useMemo(
    () => new Map([...(removed.list ?? []).map((m) => [m.account, m.displayName] as const), ...memberNames]),
    [removed.list, memberNames],
  )
  const me = memberList?.find((m) => m.me)?.account ?? null
  const others = useMemo(() => (memberList ?? []).filter((m) => !m.me), [memberList])
  const [followSignal, setFollowSignal] = useState(0)
  const [announcement, setAnnouncement] = useState('')
  const today = startOfDay(now)
  const systemLines = useSystemLines(api, conversationId)
  const olderMessages = state.nextBefore !== null
  const items = useMemo(
    () => buildItems(state.messages, state.optimistic, today, undefined, { lines: systemLines, olderMessages }),
    [state.messages, state.optimistic, today, systemLines, olderMessages],
  )
  const [groupInfo, setGroupInfo] = useState(false)
  const maxFileBytes = useMaxFileBytes(api)
  // This composer's draft is the person's while it is open; one fetched from another device on opening remounts it.
  const [draftVersion, setDraftVersion] = useState(0)
  useEffect(() => {
    const off = drafts.onReplaced((id) => id === conversationId && setDraftVersion((v) => v + 1))
    const close = drafts.open(conversationId)
    return () => {
      off()
      close()
    }
  }, [drafts, conversationId])

  // ------------------------------------------------------------------------------------------ read receipts
  const atBottom = useRef(true)
  const [scrolledUp, setScrolledUp] = useState(false)
  const logRef = useRef<HTMLDivElement>(null)
  const lastMarked = useRef('')
  const newestTheirs = useMemo(() => findNewestTheirs(state.messages), [state.messages])
  const markRead = useCallback(() => {
    if (!atBottom.current || document.visibilityState !== 'visible' || newestTheirs === undefined) return
    if (newestTheirs.orderKey <= lastMarked.current) return
    lastMarked.current = newestTheirs.orderKey
    api.call('messages.markRead', { conversationId, upTo: newestTheirs.orderKey }).catch(() => {
      // Not fatal: the next message or the next visit marks them again.
      lastMarked.current = ''
    })
  }, [api, conversationId, newestTheirs])
  useEffect(() => {
    markRead()
    document.addEventListener('visibilitychange', markRead)
    return () => document.removeEventListener('visibilitychange', markRead)
  }, [markRead])
  const onAtBottomChange = useCallback(
    (bottom: boolean) => {
      atBottom.current = bottom
      setScrolledUp(!bottom)
      if (bottom) markRead()
    },
    [markRead],
  )
  const jumpToLatest = () => {
    const log = logRef.current?.querySelector<HTMLElement>('[role="log"]')
    onAtBottomChange(true)
    if (log === null || log === undefined) return
    log.focus()
    scrollToEnd(log)
  }

  // ---------------------------------------------------------------------------------- the unread divider
  // Where reading starts, decided once when the first page arrives: it stays put while the chat is open (as in Signal),
  // even though opening the chat marks those messages read.
  const [unreadAtOpen] = useState(conversation.unread)
  const [dividerBefore, setDividerBefore] = useState<string | null | undefined>(undefined)
  if (dividerBefore === undefined && state.loaded) setDividerBefore(firstUnreadId(state.messages, unreadAtOpen))

  // ------------------------------------------------------------------------------- announcing new messages
  const announced = useRef<string | null | undefined>(undefined)
  useEffect(() => {
    if (!state.loaded) return
    const id = newestTheirs?.id ?? null
    // The first page is history, not news: only what arrives after it is announced.
    if (announced.current !== undefined && id !== null && id !== announced.current && newestTheirs !== undefined) {
      setAnnouncement(`${names.get(newestTheirs.author) ?? newestTheirs.authorName}: ${announcedText(newestTheirs)}`)
    }
    announced.current = id
  }, [state.loaded, newestTheirs, names])

  const actions: RowActions = useMemo(() => ({ retry: chat.retry, resend: chat.resend, discard: chat.discard }), [chat.retry, chat.resend, chat.discard])
  const renderItem = useCallback(
    (item: Parameters<typeof ListRow>[0]['item']) => <ListRow item={item} actions={actions} names={names} />,
    [actions, names],
  )

  // ------------------------------------------------------------------------------- composing: reply, edit, typing
  const composer = useRef<ComposerHandle>(null)
  const typing = useTyping(api, conversationId, me)
  const typingNames = typing.typists.map((t) => names.get(t.account) ?? t.displayName)
  const onReply = useCallback((m: MessageView) => composer.current?.reply(m, names.get(m.author) ?? m.authorName), [names])
  const onEdit = useCallback((m: MessageView) => composer.current?.edit(m), [])
  const messagesRef = useRef(state.messages)
  useEffect(() => {
    messagesRef.current = state.messages
  })
  const editLast = useCallback(() => lastEditable(messagesRef.current), [])
  const saveEdit = useCallback(
    (messageId: string, body: string) =>
      api.call('messages.edit', { conversationId, messageId, body }).then(
        () => null,
        (err: unknown) => errorText(err),
      ),
    [api, conversationId],
  )

  const send = (body: string, extras?: SendExtras) => {
    // The list jumps to the newest message wherever it was: that is being at the bottom.
    onAtBottomChange(true)
    setFollowSignal((n) => n + 1)
    return chat.send(body, extras)
  }

  // ------------------------------------------------------------------------------- files dropped anywhere on the chat
  const [dropping, setDropping] = useState(false)
  const acceptsFiles = (event: DragEvent) => !conversation.removed && Array.from(event.dataTransfer.types).includes('Files')
  const onDragOver = (event: DragEvent<HTMLElement>) => {
    if (!acceptsFiles(event)) return
    // Without this the browser (or Electron) would open the file in place of the app.
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
    setDropping(true)
  }
  const onDragLeave = (event: DragEvent<HTMLElement>) => {
    if (event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget)) return
    setDropping(false)
  }
  const onDrop = (event: DragEvent<HTMLElement>) => {
    setDropping(false)
    if (!acceptsFiles(event)) return
    event.preventDefault()
    composer.current?.addFiles(Array.from(event.dataTransfer.files))
  }

  const members = `${conversation.memberCount} ${conversation.memberCount === 1 ? 'member' : 'members'}`
  return (
    <MediaProvider api={api} conversationId={conversationId} messages={state.messages} names={names}>
      <section
        className={`chat${dropping ? ' dropping' : ''}`}
        aria-labelledby="chat-title"
        onDragOver={onDragOver}
        onDragLeave={onDragLeave}
        onDrop={onDrop}
      >
        <header className="chat-header">
          <div className="chat-title-block">
            <h2 id="chat-title">{conversation.name}</h2>
            <p className="muted small">
              {conversation.kind === 'direct' ? 'Direct chat' : 'Group'} · {members}
            </p>
          </div>
          <div className="chat-actions">
            {/* A direct chat holds two people: once both are in, an invite could only be refused. */}
            {conversation.role === 'admin' && !conversation.removed && !(conversation.kind === 'direct' && conversation.memberCount >= 2) && (
              <button type="button" onClick={onInvite}>
                Invite
              </button>
            )}
            {conversation.kind === 'group' && (
              <button type="button" onClick={() => setGroupInfo(true)}>
                Group info
              </button>
            )}
            <button type="button" onClick={onMembers}>
              Members
            </button>
          </div>
        </header>
        {conversation.removed && (
          <p className="banner warning" role="status">
            {conversation.left === true
              ? 'You left this group. You can still read what was said before you left.'
              : 'You were removed from this conversation. You can still read what was said before.'}
          </p>
        )}
        {groupInfo && (
          <GroupInfoDialog
            conversation={conversation}
            onClose={() => setGroupInfo(false)}
            onMembers={() => {
              setGroupInfo(false)
              onMembers()
            }}
          />
        )}
        {(conversation.conflicts?.length ?? 0) > 0 && (
          <p className="banner" role="status">
            {conflictNotice(conversation.conflicts!.map((c) => names.get(c.account) ?? c.displayName))}
          </p>
        )}
        <HistoryBanner history={conversation.history} names={names} />
        <ErrorNote error={state.error} />
        {!state.loaded && state.error === null ? (
          <p className="placeholder" role="status">
            Loading messages…
          </p>
        ) : items.length === 0 ? (
          <p className="placeholder">{historyPercent(conversation.history) === null ? 'No messages yet. Say hello!' : 'The messages of this conversation are on their way.'}</p>
        ) : (
          <div className="chat-log" ref={logRef}>
            <MessageList
              items={items}
              label={`Messages in ${conversation.name}`}
              canLoadOlder={state.nextBefore !== null}
              loadingOlder={state.loadingOlder}
              onLoadOlder={chat.loadOlder}
              onAtBottomChange={onAtBottomChange}
              followSignal={followSignal}
              renderItem={renderItem}
              onReply={onReply}
              onEdit={onEdit}
              {...(typeof dividerBefore === 'string' ? { dividerBefore } : {})}
            />
            {scrolledUp && <JumpToLatest unread={conversation.removed ? 0 : conversation.unread} onJump={jumpToLatest} />}
          </div>
        )}
        <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
          {announcement}
        </div>
        <TypingIndicator names={typingNames} />
        <Composer
          ref={composer}
          conversationName={conversation.name}
          key={draftVersion}
          initialDraft={drafts.get(conversationId)}
          onDraftChange={(text) => drafts.set(conversationId, text)}
          onSend={send}
          onEdit={saveEdit}
          lastEditable={editLast}
          onTyping={typing.typing}
          members={others}
          disabled={conversation.removed}
          disabledReason="You can no longer write here"
          autoFocus={focusComposer}
          maxFileBytes={maxFileBytes}
        />
      </section>
    </MediaProvider>
  )
}

/** The size limit for sending files, from the core's settings (its default until they are read, or if they cannot be). */
function useMaxFileBytes(api: Api): number {
  const [max, setMax] = useState(DEFAULT_MAX_FILE_BYTES)
  useEffect(() => {
    let alive = true
    api.call('settings.get').then(
      (s) => alive && typeof s.maxFileBytes === 'number' && s.maxFileBytes > 0 && setMax(s.maxFileBytes),
      () => {},
    )
    return () => {
      alive = false
    }
  }, [api])
  return max
}

/**
 * Scrolls a virtualized log to its end. Rows are measured as they come into view and rarely match their estimate, so
 * the end moves for a few frames: follow it until it holds still.
 */
function scrollToEnd(log: HTMLElement, frames = 12): void {
  log.scrollTop = log.scrollHeight
  if (frames > 0 && log.scrollHeight - log.scrollTop - log.clientHeight > 1) requestAnimationFrame(() => scrollToEnd(log, frames - 1))
}

/** What a new message says out loud: its text, and what it carries (a caption alone would hide the photo). */
export function announcedText(message: MessageView): string {
  const attachments = message.attachments ?? []
  const photos = attachments.filter((a) => a.kind === 'image').length
  const files = attachments.length - photos
  const carried = [photos === 0 ? '' : photos === 1 ? 'a photo' : `${photos} photos`, files === 0 ? '' : files === 1 ? 'a file' : `${files} files`]
    .filter(Boolean)
    .join(' and ')
  const body = message.body.slice(0, 280)
  if (carried === '') return body
  return body.length === 0 ? `sent ${carried}` : `sent ${carried}: ${body}`
}

function findNewestTheirs(messages: MessageView[]): MessageView | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (!messages[i]!.mine && !messages[i]!.withdrawn) return messages[i]
  return undefined
}

/**
 * Equivocation (a device signed two different messages for one place in its stream) is a fact every member sees the
 * same way; said plainly, without alarm: the person need not do anything, and nothing of it is shown.
 */
export function conflictNotice(names: string[]): string {
  const unique = [...new Set(names)]
  const who = unique.length === 1 ? `${unique[0]}’s device` : `The devices of ${unique.slice(0, -1).join(', ')} and ${unique.at(-1)}`
  return `${who} sent conflicting messages; they are hidden.`
}
