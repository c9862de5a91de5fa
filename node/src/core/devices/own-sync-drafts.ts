import { decodeHlc } from '../../../../crdt/src/index.js'
import { HearthError } from '../../../common/errors.js'
import type { ConversationId } from '../../ids.js'
import { MAX_DRAFT_CHARS, draftSyncKey } from './own-sync-frames.js'
import type { OwnSync } from './own-sync.js'

/** A conversation's draft as the own-sync map holds it; `at` is when it was last set (ms), null when never. */
export interface DraftView {
  text: string
  at: number | null
}

/**
 * The unsent text of each conversation, kept in step across the person's devices: the `r/<conversation>` entries of
 * the own-sync map (own-sync.ts), and nowhere else (the `osync/` records). The API's drafts.get / drafts.set; a newer
 * draft from another of our devices is told as `draft.changed`. Only our own devices ever receive a draft.
 */
export class OwnDrafts {
  private sync: OwnSync | undefined

  /** Own-sync is running (settings/follow-prefs.ts); returns the detach. */
  attach(sync: OwnSync): () => void {
    this.sync = sync
    return () => {
      if (this.sync === sync) this.sync = undefined
    }
  }

  get(id: ConversationId): DraftView {
    const entry = this.running().entry(draftSyncKey(id))
    return entry === undefined || typeof entry.v !== 'string' ? { text: '', at: null } : { text: entry.v, at: decodeHlc(entry.h).wall }
  }

  /** Sets the draft ('' clears it); the same text again is no change and is not sent. */
  set(id: ConversationId, text: string): void {
    if (text.length > MAX_DRAFT_CHARS) throw new HearthError('TOO_LARGE', `a draft is at most ${MAX_DRAFT_CHARS} characters`)
    const sync = this.running()
    const k = draftSyncKey(id)
    // Clearing a draft that never was would only add an entry to every device's map.
    if (text === '' && sync.entry(k) === undefined) return
    sync.changeHere(k, text)
  }

  private running(): OwnSync {
    if (this.sync === undefined) throw new HearthError('NOT_RUNNING', 'the core is not started')
    return this.sync
  }
}
