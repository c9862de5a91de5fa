import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import type { ConversationSummary, WhoAmI } from '../../../node/src/api/types.js'
import { useApi } from '../api/context.js'
import { useConversations } from '../hooks/useConversations.js'
import { ONE_PANE_QUERY, useMediaQuery } from '../hooks/useMediaQuery.js'
import { usePeers } from '../hooks/usePeers.js'
import { useRelayStatus } from '../hooks/useRelayStatus.js'
import { subscribeDeepLinks, subscribeOpenConversation } from '../lib/deep-links.js'
import { localDraftStorage } from '../lib/draft-storage.js'
import { totalUnread } from '../state/conversations.js'
import { Drafts, apiDraftSync } from '../state/drafts.js'
import { Chat } from './Chat.js'
import { PendingJoin } from './PendingJoin.js'
import { ConnectionStatus, connectionState, useLookingPhase } from './ConnectionStatus.js'
import { ConversationList, initials } from './ConversationList.js'
import { ErrorNote } from './Dialog.js'
import { InviteDialog } from './InviteDialog.js'
import { JoinDialog } from './JoinDialog.js'
import { MembersDialog } from './MembersDialog.js'
import { Nearby } from './Nearby.js'
import { NewConversationDialog } from './NewConversationDialog.js'
import { Settings } from './Settings.js'

type Open =
  | null
  | { dialog: 'new'; kind: 'direct' | 'group' }
  | { dialog: 'invite'; conversationId: string }
  | { dialog: 'join'; code?: string }
  | { dialog: 'members'; conversationId: string }

/**
 * The app once it runs: conversations and nearby devices on the left, the chat or settings on the right. In a narrow
 * window one of the two at a time: the list, or what was opened from it with a Back button (Escape too) to return.
 */
export function Main({ coreConnected }: { coreConnected: boolean }) {
  const api = useApi()
  const conversations = useConversations(api)
  const peers = usePeers(api)
  const relays = useRelayStatus(api)
  const looking = useLookingPhase()
  const [drafts] = useState(() => new Drafts(localDraftStorage()))
  useEffect(() => drafts.connect(apiDraftSync(api)), [drafts, api])
  const [selectedId, setSelectedId] = useState<string | null>(null)
  const [view, setView] = useState<'chat' | 'settings'>('chat')
  const [open, setOpen] = useState<Open>(null)
  const [me, setMe] = useState<WhoAmI | null>(null)
  const [focusComposer, setFocusComposer] = useState(false)
  const [now, setNow] = useState(() => Date.now())
  const onePane = useMediaQuery(ONE_PANE_QUERY)
  const backButton = useRef<HTMLButtonElement>(null)
  // Where focus goes when Back brings the list again: the control that opened the pane.
  const returnFocus = useRef<string | null>(null)

  useEffect(() => {
    api.call('identity.whoami').then(setMe, () => {})
  }, [api])
  useEffect(() => subscribeDeepLinks(window, (code) => setOpen({ dialog: 'join', code })), [])
  useEffect(
    () =>
      subscribeOpenConversation(window, (id) => {
        setSelectedId(id)
        setView('chat')
        setOpen(null)
      }),
    [],
  )
  // Relative times in the list ("10:32", "Mon") move on by themselves.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000)
    return () => clearInterval(timer)
  }, [])

  const list = useMemo(() => conversations.list ?? [], [conversations.list])
  const byId = (id: string | null) => (id === null ? undefined : list.find((c) => c.id === id))
  const selected = byId(selectedId)
  const unread = totalUnread(list)
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Hearth` : 'Hearth'
  }, [unread])

  const openConversation = (c: ConversationSummary | string) => {
    const id = typeof c === 'string' ? c : c.id
    if (typeof c !== 'string') conversations.upsert(c)
    setSelectedId(id)
    setView('chat')
    setFocusComposer(true)
  }
  const closeDialog = () => setOpen(null)

  // One pane at a time: the pane shows whatever is open (a chat or settings), the list when nothing is.
  const paneOpen = view === 'settings' || selected !== undefined
  const showingPane = onePane && paneOpen
  const back = () => {
    returnFocus.current = view === 'settings' ? '.sidebar-footer button' : selectedId === null ? null : `[data-conversation-id="${selectedId}"]`
    // Closing the chat, not hiding it: a hidden chat would go on marking what arrives as read.
    setSelectedId(null)
    setView('chat')
  }
  const backOnEscape = (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || event.defaultPrevented || !showingPane) return
    // Escape belongs to whatever is open inside the pane first: a dialog, a menu, a list of suggestions.
    if (open !== null || document.querySelector('dialog[open]') !== null) return
    if (event.target instanceof Element && event.target.closest('[role="menu"], [role="listbox"], [role="dialog"]') !== null) return
    event.preventDefault()
    back()
  }
  useEffect(() => {
    if (!onePane) return
    if (paneOpen) {
      // A chat puts focus in its composer itself; settings has no first field, so focus goes to the way back.
      if (view === 'settings') backButton.current?.focus()
      return
    }
    const target = returnFocus.current
    returnFocus.current = null
    if (target !== null) (document.querySelector<HTMLElement>(target) ?? document.querySelector<HTMLElement>('.sidebar-actions button'))?.focus()
  }, [onePane, paneOpen, view])
  const dialogConversation = open !== null && 'conversationId' in open ? byId(open.conversationId) : undefined

  return (
    <div className={`app${onePane ? ` one-pane ${showingPane ? 'showing-pane' : 'showing-list'}` : ''}`}>
      <aside className="sidebar" aria-label="Conversations and people">
        <header className="sidebar-header">
          <h1 className="brand">Hearth</h1>
          <ConnectionStatus state={connectionState({ coreConnected, peers, relays, looking })} />
        </header>
        <div className="sidebar-actions">
          <button type="button" onClick={() => setOpen({ dialog: 'new', kind: 'direct' })}>
            New chat
          </button>
          <button type="button" onClick={() => setOpen({ dialog: 'new', kind: 'group' })}>
            New group
          </button>
          <button type="button" onClick={() => setOpen({ dialog: 'join' })}>
            Join
          </button>
        </div>
        <nav className="conversations" aria-label="Conversations">
          <ErrorNote error={conversations.error} />
          {conversations.list === null && conversations.error === null ? (
            <p className="muted small empty-list" role="status">
              Loading conversations…
            </p>
          ) : (
            <ConversationList conversations={list} selectedId={view === 'chat' ? selectedId : null} onSelect={openConversation} hasDraft={(id) => drafts.has(id)} now={now} />
          )}
        </nav>
        <Nearby peers={peers} onOpenConversation={openConversation} />
        <footer className="sidebar-footer">
          <span className="me">
            <span className="avatar small" aria-hidden="true">
              {initials(me?.displayName ?? '?')}
            </span>
            <span className="me-name">{me?.displayName ?? ''}</span>
          </span>
          <button type="button" onClick={() => setView('settings')} aria-pressed={view === 'settings'}>
            Settings
          </button>
        </footer>
      </aside>

      <main className="pane" onKeyDown={backOnEscape}>
        {showingPane && (
          <div className="pane-back">
            <button type="button" className="back-button" ref={backButton} onClick={back}>
              <span className="back-arrow" aria-hidden="true">
                ←
              </span>
              Back<span className="visually-hidden"> to conversations</span>
            </button>
          </div>
        )}
        {!coreConnected && (
          <p className="banner danger" role="alert">
            This window lost its connection to Hearth and is trying to reconnect. If you stopped Hearth, start it again (npm start).
          </p>
        )}
        {view === 'settings' ? (
          <Settings onClose={() => (onePane ? back() : setView('chat'))} onNameChanged={(displayName) => setMe((m) => (m === null ? m : { ...m, displayName }))} />
        ) : selected !== undefined && selected.joinState !== undefined ? (
          <PendingJoin key={selected.id} conversation={selected} onDismissed={() => {
              conversations.remove(selected.id)
              if (onePane) back()
            }} />
        ) : selected !== undefined ? (
          <Chat
            key={selected.id}
            conversation={selected}
            drafts={drafts}
            focusComposer={focusComposer}
            now={now}
            onInvite={() => setOpen({ dialog: 'invite', conversationId: selected.id })}
            onMembers={() => setOpen({ dialog: 'members', conversationId: selected.id })}
          />
        ) : (
          <div className="empty-pane">
            <h2>{list.length === 0 ? 'Start your first conversation' : 'Pick a conversation'}</h2>
            <p className="muted">
              {list.length === 0
                ? 'Create a chat or a group and invite people with a link or QR code, or join with a link someone sent you.'
                : 'Choose one on the left, or start a new one.'}
            </p>
          </div>
        )}
      </main>

      {open?.dialog === 'new' && (
        <NewConversationDialog
          kind={open.kind}
          onClose={closeDialog}
          onCreated={(c) => {
            openConversation(c)
            setOpen({ dialog: 'invite', conversationId: c.id })
          }}
        />
      )}
      {open?.dialog === 'join' && (
        <JoinDialog
          {...(open.code === undefined ? {} : { initialCode: open.code })}
          onClose={closeDialog}
          onJoined={(c) => {
            closeDialog()
            openConversation(c)
          }}
        />
      )}
      {open?.dialog === 'invite' && dialogConversation !== undefined && <InviteDialog conversation={dialogConversation} onClose={closeDialog} />}
      {open?.dialog === 'members' && dialogConversation !== undefined && <MembersDialog conversation={dialogConversation} onClose={closeDialog} />}
    </div>
  )
}
