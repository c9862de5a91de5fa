import type { Mentionable } from '../lib/mentions.js'
import { initials } from './ConversationList.js'

export interface MentionListProps {
  id: string
  members: readonly Mentionable[]
  /** Index of the highlighted option: the composer's field points at it with aria-activedescendant. */
  active: number
  optionId(index: number): string
  onPick(member: Mentionable): void
  onHover(index: number): void
}

/**
 * The members an `@` could mean, above the composer. Focus stays in the text field (the listbox half of the combobox
 * pattern): the arrows move the highlight, Enter or Tab picks, Escape closes; a click picks too.
 */
export function MentionList({ id, members, active, optionId, onPick, onHover }: MentionListProps) {
  return (
    <ul id={id} className="mention-list" role="listbox" aria-label="Mention a member">
      {members.map((member, i) => (
        <li
          key={member.account}
          id={optionId(i)}
          role="option"
          aria-selected={i === active}
          className={`mention-option${i === active ? ' active' : ''}`}
          // Keeps the focus (and the caret) in the text field.
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => onPick(member)}
          onMouseEnter={() => onHover(i)}
        >
          <span className="avatar small" aria-hidden="true">
            {initials(member.displayName)}
          </span>
          <span className="mention-name">{member.displayName}</span>
        </li>
      ))}
    </ul>
  )
}
