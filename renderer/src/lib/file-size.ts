/** Sizes as people read them ("812 KB", "3.4 MB"): the core's own words for the same file (node/common/util/byte-size.ts). */
export { formatBytes } from '../../../node/common/util/byte-size.js'

/** Whole percent of `part` in `total`, never 100 before it is all there. */
export function percent(part: number, total: number): number {
  if (total <= 0) return 100
  const p = Math.floor((part / total) * 100)
  return part < total ? Math.min(99, p) : 100
}
