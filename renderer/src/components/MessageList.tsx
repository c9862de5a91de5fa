/**
 * The chat's message list: virtualized (only the rows in view plus a margin are in the DOM, so 100k messages cost
 * what 30 do), sticks to the newest message while you are at the bottom, loads older pages as you scroll up and keeps
 * what you were reading in place when they arrive above it.
 */
import { useVirtualizer } from '@tanstack/react-virtual'
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react'
import type { MessageView } from '../../../node/src/api/types.js'
import type { ListItem, TimelineItem } from '../state/items.js'
import { MessageListContext, type MessageListControls } from './message-context.js'
import { SystemLine } from './SystemLine.js'

/** Start loading the next older page when this close to the top (px). */
const LOAD_OLDER_MARGIN = 600
/** Within this distance of the bottom (px) the list counts as "at the bottom" and follows new messages. */
const BOTTOM_MARGIN = 48

export interface MessageListProps {
  /** Rows in order; system lines among them are drawn by the list itself (SystemLine). */
  items: TimelineItem[]
  /** Accessible name of the log (e.g. "Messages in Family"). */
  label: string
  canLoadOlder: boolean
  loadingOlder: boolean
  onLoadOlder(): void
  /** Told whenever the person reaches or leaves the newest message (to mark messages read). */
  onAtBottomChange(atBottom: boolean): void
  /** Bumped by the chat when the person sends: the list then jumps to the newest message wherever it was. */
  followSignal: number
  renderItem(item: ListItem): ReactNode
  /**
   * Key of the first unread row: a "New messages" divider is drawn above it, and the list opens with the divider at
   * the top when what is unread does not fit (as Signal and WhatsApp do) instead of at the newest message.
   */
  dividerBefore?: string
  /** Reply to a message: the composer's reply mode (rows show Reply in their menu when it is given). */
  onReply?: ((message: MessageView) => void) | undefined
  /** Edit a message of mine: the composer's edit mode (without it, rows edit in a dialog). */
  onEdit?: ((message: MessageView) => void) | undefined
}

/** How long a message jumped to from a quote stays highlighted (ms). */
const HIGHLIGHT_MS = 2000

interface Anchor {
  key: string
  /** The anchor row's start minus the scroll position: where it sat in the viewport. */
  delta: number
}

export function MessageList(props: MessageListProps) {
  const { items, canLoadOlder, loadingOlder, onLoadOlder, onAtBottomChange, followSignal, dividerBefore } = props
  const scrollRef = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  const anchor = useRef<Anchor | null>(null)
  const previousItems = useRef<TimelineItem[]>([])
  const previousFollow = useRef(followSignal)

  // The virtualizer returns functions that change every render; the React compiler cannot memoize around them, which is
  // fine here: this component re-renders on every scroll frame by design.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => (items[index]?.kind === 'day' ? 44 : items[index]?.kind === 'system' ? 32 : 64),
    getItemKey: (index) => items[index]?.key ?? index,
    overscan: 10,
    // React 19 batches the re-render itself; flushSync from inside measurement callbacks only adds nested renders.
    useFlushSync: false,
    paddingStart: 8,
    paddingEnd: 12,
  })

  /**
   * Remembers the first row in view and where it sits, so rows added above it (an older page) can be compensated
   * for. Read from the virtualizer's measurements of every row (not the rendered window, which may lag a scroll).
   */
  const captureAnchor = useCallback(() => {
    const el = scrollRef.current
    const measurements = virtualizer.measurementsCache
    if (el === null || measurements.length === 0) return
    const top = el.scrollTop
    let lo = 0
    let hi = measurements.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (measurements[mid]!.end <= top) lo = mid + 1
      else hi = mid
    }
    const first = measurements[lo]!
    anchor.current = { key: String(first.key), delta: first.start - top }
  }, [virtualizer])

  const onScroll = useCallback(() => {
    const el = scrollRef.current
    if (el === null) return
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_MARGIN
    if (bottom !== atBottom.current) {
      atBottom.current = bottom
      onAtBottomChange(bottom)
    }
    captureAnchor()
    if (el.scrollTop < LOAD_OLDER_MARGIN && canLoadOlder && !loadingOlder) onLoadOlder()
  }, [canLoadOlder, loadingOlder, onLoadOlder, onAtBottomChange, captureAnchor])

  // After the rows change: follow the newest message, or keep the row being read where it was (rows may have been
  // added above it: an older page, a day separator, a late message from a peer that was offline).
  useLayoutEffect(() => {
    const before = previousItems.current
    previousItems.current = items
    const followed = previousFollow.current !== followSignal
    previousFollow.current = followSignal
    if (items.length === 0 || before === items) return
    const unreadFrom = before.length === 0 && dividerBefore !== undefined ? items.findIndex((item) => item.key === dividerBefore) : -1
    const el = scrollRef.current
    const unreadSpan = unreadFrom === -1 ? 0 : virtualizer.getTotalSize() - (virtualizer.measurementsCache[unreadFrom]?.start ?? 0)
    if (el !== null && unreadSpan > el.clientHeight) {
      // Open at the first unread message; reaching the newest is what marks them read.
      atBottom.current = false
      onAtBottomChange(false)
      virtualizer.scrollToIndex(unreadFrom, { align: 'start' })
      return
    }
    if (before.length === 0 || atBottom.current || followed) {
      virtualizer.scrollToIndex(items.length - 1, { align: 'end' })
      atBottom.current = true
      return
    }
    const kept = anchor.current
    if (el === null || kept === null) return
    const index = items.findIndex((item) => item.key === kept.key)
    const start = index === -1 ? undefined : virtualizer.measurementsCache[index]?.start
    if (start !== undefined && Math.abs(start - kept.delta - el.scrollTop) > 1) virtualizer.scrollToOffset(start - kept.delta)
  }, [items, followSignal, dividerBefore, onAtBottomChange, virtualizer])

  // Home and End jump at once. The browser's own are animated, and the list measuring rows as they fly past (and
  // correcting the position for them) would stop the animation halfway.
  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLDivElement>) => {
      if (event.target !== event.currentTarget || items.length === 0) return
      if (event.key === 'End') {
        event.preventDefault()
        atBottom.current = true
        onAtBottomChange(true)
        virtualizer.scrollToIndex(items.length - 1, { align: 'end' })
      } else if (event.key === 'Home') {
        event.preventDefault()
        virtualizer.scrollToIndex(0, { align: 'start' })
      }
    },
    [items.length, onAtBottomChange, virtualizer],
  )

  // Rows are measured after they render and rarely match the estimate, so the content keeps growing for a moment
  // after a jump to the end: while following the newest message, stay at the end as it grows.
  const totalSize = virtualizer.getTotalSize()
  useLayoutEffect(() => {
    const el = scrollRef.current
    if (el !== null && atBottom.current && items.length > 0) el.scrollTop = el.scrollHeight
  }, [totalSize, items.length])

  // A short history does not fill the view, so no scroll event would ever ask for more: ask now.
  useEffect(() => {
    const el = scrollRef.current
    if (el === null || !canLoadOlder || loadingOlder) return
    if (el.scrollHeight <= el.clientHeight + LOAD_OLDER_MARGIN && el.clientHeight > 0) onLoadOlder()
  }, [items, canLoadOlder, loadingOlder, onLoadOlder])

  // ------------------------------------------------------------------------------- jumping to a quoted message
  // A quote names its original by id; the original may be pages older than what is loaded. Older pages are asked for
  // one at a time until it turns up (or the history ends: then it is not here, e.g. deleted for me).
  const [jump, setJump] = useState<string | null>(null)
  const [highlighted, setHighlighted] = useState<string | null>(null)
  const [jumpNote, setJumpNote] = useState('')
  const jumpTo = useCallback((id: string) => {
    setJumpNote('')
    setJump(id)
  }, [])
  useEffect(() => {
    if (jump === null) return
    const index = items.findIndex((item) => item.kind === 'message' && item.key === jump)
    if (index !== -1) {
      atBottom.current = false
      onAtBottomChange(false)
      virtualizer.scrollToIndex(index, { align: 'center' })
      setJump(null)
      setHighlighted(jump)
    } else if (canLoadOlder) {
      if (!loadingOlder) onLoadOlder()
    } else if (!loadingOlder) {
      setJump(null)
      setJumpNote('The original message is no longer in this chat.')
    }
  }, [jump, items, canLoadOlder, loadingOlder, onLoadOlder, onAtBottomChange, virtualizer])
  useEffect(() => {
    if (jumpNote === '') return
    const timer = setTimeout(() => setJumpNote(''), 3 * HIGHLIGHT_MS)
    return () => clearTimeout(timer)
  }, [jumpNote])
  useEffect(() => {
    if (highlighted === null) return
    const timer = setTimeout(() => setHighlighted(null), HIGHLIGHT_MS)
    return () => clearTimeout(timer)
  }, [highlighted])
  const controls: MessageListControls = useMemo(
    () => ({ onReply: props.onReply, onEdit: props.onEdit, jumpTo, highlighted }),
    [props.onReply, props.onEdit, jumpTo, highlighted],
  )

  const virtualItems = virtualizer.getVirtualItems()
  return (
    <MessageListContext.Provider value={controls}>
    <div className="message-frame">
      {/* Outside the scrolled content, so showing it never moves the rows. */}
      {loadingOlder && (
        <p className="loading-older" role="status">
          {jump === null ? 'Loading older messages…' : 'Looking for the original message…'}
        </p>
      )}
      {/* Only there while it has something to say (an alert is read out as it appears). */}
      {jumpNote !== '' && (
        <p className="jump-note" role="alert">
          {jumpNote}
        </p>
      )}
    <div
      ref={scrollRef}
      className="message-scroll"
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      role="log"
      aria-label={props.label}
      // Rows enter and leave the DOM as you scroll; announcing them would be noise. New messages are announced by the
      // chat's own live region instead.
      aria-live="off"
      // Focusable, so the history can be scrolled with the keyboard (arrows, Page Up/Down, Home/End).
      tabIndex={0}
    >
      <div className="message-canvas" style={{ height: totalSize }}>
        {virtualItems.map((v) => {
          const item = items[v.index]
          if (item === undefined) return null
          return (
            <div
              key={v.key}
              data-index={v.index}
              ref={virtualizer.measureElement}
              className="message-slot"
              style={{ transform: `translateY(${v.start}px)` }}
            >
              {item.key === dividerBefore && (
                <div className="new-messages-divider" role="separator" aria-label="New messages">
                  <span aria-hidden="true">New messages</span>
                </div>
              )}
              {item.kind === 'system' ? <SystemLine line={item.line} /> : props.renderItem(item)}
            </div>
          )
        })}
      </div>
    </div>
    </div>
    </MessageListContext.Provider>
  )
}
