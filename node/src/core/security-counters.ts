/**
 * Counts of what was refused and why (forged, replayed, wrong conversation, removed member, malformed…). Tests assert
 * on them and the API exposes them, so an attack is visible rather than silently absorbed.
 */
export class SecurityCounters {
  private readonly counts = new Map<string, number>()

  count(reason: string, by = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + by)
  }

  get(reason: string): number {
    return this.counts.get(reason) ?? 0
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)))
  }
}
