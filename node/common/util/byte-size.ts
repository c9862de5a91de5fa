const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/** "120 MiB": sizes as people read them, in the binary units the limits are set in. */
export function formatBytes(bytes: number): string {
  if (bytes < KiB) return `${bytes} bytes`
  if (bytes < MiB) return `${(bytes / KiB).toFixed(bytes < 10 * KiB ? 1 : 0)} KiB`
  if (bytes < GiB) return `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`
  return `${(bytes / GiB).toFixed(1)} GiB`
}
