/**
 * Choosing a reaction: a row of the usual ones, then every emoji with search (frimousse, with the emoji data shipped
 * in the app). A modal dialog: focus starts in the search field, arrows move through the grid from there, Enter picks,
 * Escape closes and focus returns to what opened it.
 */
import { EmojiPicker, type EmojiPickerListCategoryHeaderProps, type EmojiPickerListEmojiProps, type EmojiPickerListRowProps } from 'frimousse'
import { useEffect, useRef } from 'react'
import { resolveEmojiData } from '../lib/emoji-data.js'
import { Dialog } from './Dialog.js'
import { useFocusOnOpen } from './focus-on-open.js'

export const QUICK_REACTIONS: ReadonlyArray<readonly [emoji: string, label: string]> = [
  ['👍', 'Thumbs up'],
  ['❤️', 'Red heart'],
  ['😂', 'Face with tears of joy'],
  ['😮', 'Face with open mouth'],
  ['😢', 'Crying face'],
  ['🙏', 'Folded hands'],
]

export interface ReactionPickerProps {
  /** My reaction now, or null. */
  current: string | null
  /** Called with the chosen emoji, or null to take mine away. */
  onPick(emoji: string | null): void
  onClose(): void
}

export function ReactionPicker({ current, onPick, onClose }: ReactionPickerProps) {
  const search = useFocusOnOpen<HTMLInputElement>()
  const pick = (emoji: string) => onPick(emoji === current ? null : emoji)
  return (
    <Dialog title="React" onClose={onClose}>
      <div className="quick-reactions" role="group" aria-label="Frequent reactions">
        {QUICK_REACTIONS.map(([emoji, label]) => (
          <button
            key={emoji}
            type="button"
            className="quick-reaction"
            aria-label={label}
            aria-pressed={emoji === current}
            onClick={() => pick(emoji)}
          >
            <span aria-hidden="true">{emoji}</span>
          </button>
        ))}
      </div>
      <EmojiPicker.Root className="emoji-picker" columns={8} resolveEmojiData={resolveEmojiData} onEmojiSelect={({ emoji }) => pick(emoji)}>
        {/* The search field takes focus first: typing narrows the grid, arrows move through it, Enter picks. */}
        <EmojiPicker.Search ref={search} className="emoji-search" aria-label="Search emoji" placeholder="Search emoji" />
        <EmojiPicker.Viewport className="emoji-viewport" tabIndex={0} aria-label="All emoji (use the arrow keys, Enter to pick)">
          <EmojiPicker.Loading className="emoji-status">Loading emoji…</EmojiPicker.Loading>
          <EmojiPicker.Empty className="emoji-status">No emoji found.</EmojiPicker.Empty>
          <EmojiPicker.List className="emoji-list" aria-label="Emoji" components={{ CategoryHeader, Row, Emoji }} />
        </EmojiPicker.Viewport>
        <EmojiPicker.ActiveEmoji>
          {({ emoji }) => (
            <p className="emoji-preview muted small" aria-hidden="true">
              {emoji === undefined ? 'Pick an emoji' : `${emoji.emoji} ${emoji.label}`}
            </p>
          )}
        </EmojiPicker.ActiveEmoji>
      </EmojiPicker.Root>
      {current !== null && (
        <div className="button-row">
          <button type="button" onClick={() => onPick(null)}>
            Remove my reaction ({current})
          </button>
        </div>
      )}
    </Dialog>
  )
}

function CategoryHeader({ category, ...props }: EmojiPickerListCategoryHeaderProps) {
  return (
    <div className="emoji-category" {...props}>
      {category.label}
    </div>
  )
}

// The library numbers rows and cells from 0, and ARIA's aria-rowindex and aria-colindex count from 1 (an invalid
// value misleads screen readers): they are left out, as ARIA allows when the whole grid is in the DOM order, and the
// active cell keeps itself in view instead of the library finding its row by that index.
function Row({ children, 'aria-rowindex': _row, ...props }: EmojiPickerListRowProps) {
  return (
    <div className="emoji-row" {...props}>
      {children}
    </div>
  )
}

function Emoji({ emoji, 'aria-colindex': _column, ...props }: EmojiPickerListEmojiProps) {
  const ref = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (emoji.isActive) ref.current?.scrollIntoView?.({ block: 'nearest' })
  }, [emoji.isActive])
  return (
    <button ref={ref} type="button" className="emoji-cell" {...props}>
      {emoji.emoji}
    </button>
  )
}
