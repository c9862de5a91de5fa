/**
 * This person's own preferences for each conversation: mute (all / mentions only / nothing, for a while or always),
 * archived, and pinned to the top. They are nobody else's business: no operation, no envelope, only a sealed record in
 * the core's store, and they go only to the person's own other devices (devices/own-sync.ts), which hear of every
 * change made here (`onChange`) and hand theirs back (`replace`).
 *
 *   pref/<conv>   sealed ConversationPrefs (docs/STORAGE.md)
 *
 * A timed mute is stored with its end (`until`) and lapses on read (api/mute.ts): nothing has to wake up to end it.
 */
import { z } from 'zod'
import { HearthError } from '../../../common/errors.js'
import { decodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange, splitKey } from '../../../common/storage/keyspace.js'
import { effectiveMute, NOT_MUTED, notifies, type MuteLevel, type MuteSetting } from '../../api/mute.js'
import type { ConversationId } from '../../ids.js'
import type { CoreStore } from '../../store/core-store.js'

/** Pinned conversations at most: pinning is for the few that matter (WhatsApp: 3, Signal: 4). */
export const MAX_PINNED = 5
/** Longest timed mute; beyond that a person means "always". */
export const MAX_MUTE_MS = 366 * 24 * 3600_000

export interface ConversationPrefs {
  mute: MuteSetting
  archived: boolean
  /** When it was pinned (epoch ms; pinned conversations are shown in this order), or null. */
  pinnedAt: number | null
}

export interface PrefsPatch {
  /** `forMs` null mutes until changed; level 'all' unmutes (forMs is then ignored). */
  mute?: { level: MuteLevel; forMs: number | null } | undefined
  archived?: boolean | undefined
  pinned?: boolean | undefined
}

export const DEFAULT_PREFS: ConversationPrefs = { mute: NOT_MUTED, archived: false, pinnedAt: null }

/** A stored record, and the value another device of ours sends (devices/own-sync-frames.ts). */
export const storedPrefsSchema = z.strictObject({
  mute: z.strictObject({
    level: z.enum(['all', 'mentions', 'nothing']),
    until: z.number().int().min(0).nullable(),
  }),
  archived: z.boolean(),
  pinnedAt: z.number().int().min(0).nullable(),
})

const patchSchema = z.strictObject({
  mute: z
    .strictObject({
      level: z.enum(['all', 'mentions', 'nothing']),
      forMs: z.number().int().min(60_000).max(MAX_MUTE_MS).nullable(),
    })
    .optional(),
  archived: z.boolean().optional(),
  pinned: z.boolean().optional(),
})

/** The patch as the API carries it; the core checks it again here so every caller (CLI, tests) meets the same rule. */
export function validatePatch(input: unknown): PrefsPatch {
  const r = patchSchema.safeParse(input)
  if (!r.success) throw new HearthError('INVALID_INPUT', `invalid conversation preferences: ${r.error.issues[0]?.message ?? 'bad shape'}`)
  return r.data
}

const prefsKey = (c: string) => key('pref', c)

function parseStored(value: unknown): ConversationPrefs {
  const r = storedPrefsSchema.safeParse(value)
  if (!r.success) throw new HearthError('CORRUPT_DATA', `stored conversation preferences are invalid: ${r.error.issues[0]?.message}`)
  return r.data
}

export class ConversationPrefsStore {
  private readonly prefs = new Map<ConversationId, ConversationPrefs>()
  /** Writes one after another, so two pins racing cannot both pass the "at most 5" check. */
  private tail: Promise<unknown> = Promise.resolve()
  /** Told of every change made on this device (not of those `replace` takes from another device), as stored. */
  onChange: ((id: ConversationId, prefs: ConversationPrefs) => void) | undefined

  constructor(
    private readonly store: CoreStore,
    private readonly now: () => number,
  ) {}

  async load(): Promise<void> {
    this.prefs.clear()
    for await (const [k, v] of this.store.db.iterate(prefixRange('pref'))) {
      const id = splitKey(k).at(-1) as ConversationId
      this.prefs.set(id, decodeJson(this.store.openSealed(k, v), parseStored, 'conversation preferences'))
    }
  }

  /** The preferences as they read now: a lapsed timed mute reads as not muted. */
  get(id: ConversationId): ConversationPrefs {
    const p = this.prefs.get(id) ?? DEFAULT_PREFS
    return { ...p, mute: effectiveMute(p.mute, this.now()) }
  }

  /** As stored: a timed mute with its end even when that has passed. */
  stored(id: ConversationId): ConversationPrefs {
    return this.prefs.get(id) ?? DEFAULT_PREFS
  }

  /** Every conversation with stored preferences. */
  ids(): ConversationId[] {
    return [...this.prefs.keys()]
  }

  /**
   * Preferences another device of ours set (the at-most-five pins are not checked: two devices may each have pinned one
   * at once, and both stay pinned). Written only if `stillWanted()` holds once it is this write's turn: a change made
   * here meanwhile wins.
   */
  async replace(id: ConversationId, prefs: ConversationPrefs, stillWanted: () => boolean): Promise<boolean> {
    const value = parseStored(prefs)
    const run = this.tail.then(async () => {
      if (!stillWanted()) return false
      await this.store.commit([this.store.sealJson(prefsKey(id), value)], true)
      this.prefs.set(id, value)
      return true
    })
    this.tail = run.catch(() => {})
    return run
  }

  async set(id: ConversationId, input: PrefsPatch): Promise<ConversationPrefs> {
    const patch = validatePatch(input)
    const run = this.tail.then(() => this.apply(id, patch))
    this.tail = run.catch(() => {})
    return run
  }

  /**
   * A message from someone else arrived. An archived conversation comes back to the main list when the message would
   * notify (not muted, or muted to mentions and it mentions us): WhatsApp's "keep archived" for muted chats.
   * Returns true when it was un-archived.
   */
  async arrived(id: ConversationId, mentionsMe: boolean): Promise<boolean> {
    const p = this.get(id)
    if (!p.archived || !notifies(p.mute, mentionsMe, this.now())) return false
    await this.set(id, { archived: false })
    return true
  }

  private async apply(id: ConversationId, patch: PrefsPatch): Promise<ConversationPrefs> {
    const now = this.now()
    const current = this.get(id)
    const next: ConversationPrefs = { ...current }
    if (patch.mute !== undefined) {
      const { level, forMs } = patch.mute
      next.mute = level === 'all' ? NOT_MUTED : { level, until: forMs === null ? null : now + forMs }
    }
    if (patch.archived !== undefined) next.archived = patch.archived
    if (patch.pinned === true && current.pinnedAt === null) {
      const pinned = [...this.prefs.entries()].filter(([other, p]) => other !== id && p.pinnedAt !== null).length
      if (pinned >= MAX_PINNED) {
        throw new HearthError('INVALID_INPUT', `You can pin up to ${MAX_PINNED} conversations. Unpin one to pin this one.`)
      }
      next.pinnedAt = now
    } else if (patch.pinned === false) {
      next.pinnedAt = null
    }
    // The archive holds what a person put out of sight, the pins what they keep on top: one conversation is not both.
    if (patch.archived === true) next.pinnedAt = null
    else if (patch.pinned === true) next.archived = false
    await this.store.commit([this.store.sealJson(prefsKey(id), next)], true)
    this.prefs.set(id, next)
    this.onChange?.(id, next)
    return this.get(id)
  }
}
