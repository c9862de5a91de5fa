/**
 * Typing indicators: who is typing in the open chat (from the core's `typing` events) and what the line under the
 * messages says about it. Pure, so the timing rules are tested without timers.
 */

export interface Typist {
  account: string
  displayName: string
  /** Epoch ms after which they no longer count as typing unless a new event says so. */
  until: number
}

/** Someone is typing (again): added at the end, or their time extended where they already are (no reordering). */
export function typingStarted(typists: readonly Typist[], typist: Typist): Typist[] {
  const i = typists.findIndex((t) => t.account === typist.account)
  if (i === -1) return [...typists, typist]
  const next = typists.slice()
  next[i] = { ...typist, until: Math.max(typist.until, typists[i]!.until) }
  return next
}

/** They sent a message: whatever they were typing has arrived. */
export function typingStopped(typists: readonly Typist[], account: string): readonly Typist[] {
  return typists.some((t) => t.account === account) ? typists.filter((t) => t.account !== account) : typists
}

/** Drops those whose time has run out; the same array when nobody did (so a render can be skipped). */
export function typingAt(typists: readonly Typist[], now: number): readonly Typist[] {
  return typists.some((t) => t.until <= now) ? typists.filter((t) => t.until > now) : typists
}

/** What the line says: one name, two names, or no names beyond that (a list of five names is not read, it is noise). */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return `${names[0]} is typing…`
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`
  return 'Several people are typing…'
}

/**
 * Lets a call through at most once per `intervalMs`: the composer reports typing on input, which comes with every key
 * press. The core itself sends at most one signal every few seconds; this only spares the API the calls in between.
 */
export function throttle(intervalMs: number, now: () => number = Date.now): () => boolean {
  let last = Number.NEGATIVE_INFINITY
  return () => {
    const at = now()
    if (at - last < intervalMs) return false
    last = at
    return true
  }
}
