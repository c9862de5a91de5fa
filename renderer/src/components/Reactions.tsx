/**
 * Reaction chips under a bubble: each emoji with how many reacted; hovering or focusing one tells who. Clicking my own
 * takes it away; clicking another makes it mine (one reaction per person: it replaces the one I had).
 */
import { useId } from 'react'

export interface ReactionsProps {
  /** Emoji → accounts, as the core gives it. */
  reactions: Record<string, string[]>
  /** My account (null until known: then no chip counts as mine). */
  me: string | null
  names: ReadonlyMap<string, string>
  /** The emoji to make mine, or null to take mine away. */
  onSet(emoji: string | null): void
}

export function Reactions({ reactions, me, names, onSet }: ReactionsProps) {
  const id = useId()
  const chips = Object.entries(reactions)
    .filter(([, accounts]) => accounts.length > 0)
    // Most given first; a tie keeps the order the core gave.
    .sort((a, b) => b[1].length - a[1].length)
  if (chips.length === 0) return null
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {chips.map(([emoji, accounts], i) => {
        const mine = me !== null && accounts.includes(me)
        const who = whoReacted(accounts, me, names)
        return (
          <span key={emoji} className="reaction-wrap">
            <button
              type="button"
              className={`reaction${mine ? ' mine' : ''}`}
              aria-pressed={mine}
              aria-label={`${emoji} ${accounts.length}`}
              aria-describedby={`${id}-${i}`}
              onClick={() => onSet(mine ? null : emoji)}
            >
              <span aria-hidden="true">{emoji}</span>
              <span className="reaction-count" aria-hidden="true">
                {accounts.length}
              </span>
            </button>
            <span id={`${id}-${i}`} role="tooltip" className="reaction-tooltip">
              {who}
              {mine ? ' · click to remove yours' : ` · click to react with ${emoji}`}
            </span>
          </span>
        )
      })}
    </div>
  )
}

/** "You, Alice and Bob": me first, then the others by their current names. */
export function whoReacted(accounts: string[], me: string | null, names: ReadonlyMap<string, string>): string {
  const mine = me !== null && accounts.includes(me)
  const others = accounts.filter((a) => a !== me).map((a) => names.get(a) ?? 'Someone')
  const all = mine ? ['You', ...others] : others
  return all.length === 1 ? all[0]! : `${all.slice(0, -1).join(', ')} and ${all.at(-1)}`
}
