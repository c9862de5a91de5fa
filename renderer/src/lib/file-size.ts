/** Sizes as people read them: "812 KB", "3.4 MB", "100 MB" (binary units, named as file managers name them). */

const UNITS = ['bytes', 'KB', 'MB', 'GB'] as const

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?'
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const rounded = value >= 10 ? Math.round(value).toString() : (Math.round(value * 10) / 10).toString()
  return `${rounded} ${UNITS[unit]}`
}

/** Whole percent of `part` in `total`, never 100 before it is all there. */
export function percent(part: number, total: number): number {
  if (total <= 0) return 100
  const p = Math.floor((part / total) * 100)
  return part < total ? Math.min(99, p) : 100
}
