/**
 * What a conversation's mute means at a given moment. A timed mute lapses by itself: it is never rewritten when it
 * ends, every reader (the core's summary, the shell's notifications, the UI) computes it from `until` and the clock.
 *
 * Pure and free of Node and zod, so the renderer and the Electron shell share the one rule with the core.
 */
export type MuteLevel = 'all' | 'mentions' | 'nothing'

/** `level` 'all' notifies for every message; `until` (epoch ms) ends a timed mute, null means until changed. */
export interface MuteSetting {
  level: MuteLevel
  until: number | null
}

export const NOT_MUTED: MuteSetting = { level: 'all', until: null }

/** The mute in force at `now`: a timed mute whose end has passed reads as not muted. */
export function effectiveMute(mute: MuteSetting | undefined, now: number): MuteSetting {
  if (mute === undefined || mute.level === 'all') return NOT_MUTED
  if (mute.until !== null && mute.until <= now) return NOT_MUTED
  return mute
}

/**
 * Whether a message from someone else should notify (Signal's and WhatsApp's meaning: a muted conversation still
 * counts unread messages, it only stays quiet). 'mentions' lets through only messages that mention this account.
 */
export function notifies(mute: MuteSetting | undefined, mentionsMe: boolean, now: number): boolean {
  const m = effectiveMute(mute, now)
  return m.level === 'all' || (m.level === 'mentions' && mentionsMe)
}
