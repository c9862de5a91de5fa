const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB']

/**
 * "120 MB": sizes as people read them (binary multiples under the short names file managers and messengers show),
 * one decimal below 10. The UI and the core say the same thing about the same file.
 */
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
