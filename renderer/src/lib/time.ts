/** Dates and times as a person reads them, in their own locale and time zone. */

/** Local midnight at or before `ms`. */
export function startOfDay(ms: number): number {
  const d = new Date(ms)
  d.setHours(0, 0, 0, 0)
  return d.getTime()
}

/** Local midnight after `ms` (days are not always 24 h long: daylight saving). */
export function startOfNextDay(ms: number): number {
  const d = new Date(startOfDay(ms))
  d.setDate(d.getDate() + 1)
  return d.getTime()
}

/** "Today", "Yesterday", "Monday 3 March", or with the year when it is not this year. */
export function dayLabel(dayStart: number, now: number, locale?: string): string {
  const today = startOfDay(now)
  if (dayStart === today) return 'Today'
  const yesterday = new Date(today)
  yesterday.setDate(yesterday.getDate() - 1)
  if (dayStart === yesterday.getTime()) return 'Yesterday'
  const sameYear = new Date(dayStart).getFullYear() === new Date(now).getFullYear()
  return new Intl.DateTimeFormat(locale, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(dayStart)
}

export function timeOfDay(ms: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(ms)
}

/** For the conversation list: the time today, the weekday this week, otherwise a short date. */
export function shortWhen(ms: number, now: number, locale?: string): string {
  if (startOfDay(ms) === startOfDay(now)) return timeOfDay(ms, locale)
  if (now - ms < 6 * 24 * 3600_000 && ms <= now) return new Intl.DateTimeFormat(locale, { weekday: 'short' }).format(ms)
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(ms)
}

/** Full date and time, for a tooltip or a screen reader. */
export function fullWhen(ms: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(ms)
}
