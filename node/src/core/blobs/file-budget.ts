/**
 * The room received photos and files may take on this device (Settings, `keepReceivedBytes`; docs/adr/0029 addendum).
 *
 * Files this device sent are never counted nor removed: it is their source for everyone else. Received ones are, and
 * when they take more than the person allows, those opened (or received) least recently are removed from this device
 * until they take at most `LOW_WATER` of it, so one more photo does not remove one more old one each time. A removed
 * file's message stays and says so; it can be downloaded again from anyone who still has it (its sender keeps it).
 * Files being downloaded are never removed under the download.
 */
import type { ConversationId } from '../../ids.js'
import type { CoreStore } from '../../store/core-store.js'
import { heldBytes } from './blob-disk.js'
import { allRecords } from './blob-records.js'
import type { FileEntry, FileIndex } from './file-index.js'

/** Removal stops once received files take this share of the budget or less. */
export const LOW_WATER = 0.9

export interface ReceivedFile {
  conversation: ConversationId
  blob: string
  /** Bytes it takes on disk now (held chunks). */
  bytes: number
  /** When it was last opened or, if never, last received into (ms). */
  usedAt: number
}

/**
 * Which received files to remove so that they take at most `LOW_WATER × budget` bytes (none while they take at most
 * `budget`; `budget` 0 means no limit). Least recently used first, ties by blob id, never one `keep` holds on to. When
 * even removing every other file is not enough, every other file goes: what is kept is what is in use.
 */
export function filesToRemove(files: readonly ReceivedFile[], budget: number, keep: (file: ReceivedFile) => boolean): ReceivedFile[] {
  if (budget <= 0) return []
  let total = 0
  for (const f of files) total += f.bytes
  if (total <= budget) return []
  const target = Math.floor(budget * LOW_WATER)
  const candidates = files
    .filter((f) => f.bytes > 0 && !keep(f))
    .sort((a, b) => a.usedAt - b.usedAt || (a.blob < b.blob ? -1 : a.blob > b.blob ? 1 : 0))
  const out: ReceivedFile[] = []
  for (const f of candidates) {
    if (total <= target) break
    out.push(f)
    total -= f.bytes
  }
  return out
}

/** How long a file's "last opened" time may lag: opening it again within this writes nothing. */
export const OPENED_WRITE_EVERY_MS = 3600_000

export interface BudgetDeps {
  store: CoreStore
  index: FileIndex
  /** The person's limit now (bytes; 0: none). */
  budget(): number
  /** Whether a file must stay now (being downloaded, or just received or opened). */
  keep(file: ReceivedFile): boolean
  /** Removes one received file from this device (as Clear media does for a conversation's). */
  remove(entry: FileEntry): Promise<void>
}

/**
 * Keeps received files within the budget: `enforce` looks at what is stored and removes what `filesToRemove` says,
 * one run at a time (a run asked for during one runs once more after it).
 */
export class ReceivedFilesBudget {
  private running: Promise<number> | undefined
  private again = false
  /**
   * At least as many bytes as received files take: the last look's total plus every file completed since (a removal
   * elsewhere only makes it high). While it is within the room, nothing needs reading: a look reads every file's
   * record, which after each photo of an album would be the same work many times over.
   */
  private upperBound: number | undefined

  constructor(private readonly deps: BudgetDeps) {}

  /** A received file of `bytes` (on disk) completed. */
  grew(bytes: number): void {
    if (this.upperBound !== undefined) this.upperBound += bytes
  }

  /** Resolves with how many files the run removed. */
  enforce(): Promise<number> {
    if (this.running !== undefined) {
      this.again = true
      return this.running
    }
    const run = (async () => {
      let removed = 0
      do {
        this.again = false
        removed += await this.once()
      } while (this.again)
      return removed
    })().finally(() => {
      this.running = undefined
    })
    this.running = run
    return run
  }

  private async once(): Promise<number> {
    const budget = this.deps.budget()
    if (budget <= 0 || (this.upperBound !== undefined && this.upperBound <= budget)) return 0
    const received = new Map<string, FileEntry>()
    for await (const entry of this.deps.index.list()) if (entry.own !== true && !entry.gone) received.set(entry.blob, entry)
    const files: ReceivedFile[] = []
    for await (const record of allRecords(this.deps.store)) {
      const entry = received.get(record.id)
      // Only blobs a received message names in the same conversation: a blob that is also ours is ours.
      if (entry === undefined || entry.conversation !== record.conversation) continue
      files.push({ conversation: entry.conversation, blob: record.id, bytes: heldBytes(record), usedAt: Math.max(entry.openedAt ?? 0, record.progressAt) })
    }
    const remove = filesToRemove(files, budget, (f) => this.deps.keep(f))
    let total = 0
    for (const f of files) total += f.bytes
    this.upperBound = total
    for (const f of remove) {
      await this.deps.remove(received.get(f.blob)!)
      this.upperBound -= f.bytes
    }
    return remove.length
  }
}
