import { multiaddr } from '@multiformats/multiaddr'
import { MAX_BLOB_PLAIN } from '../../../common/blob/format.js'
import { HearthError } from '../../../common/errors.js'
import { DEFAULT_FILE_SETTINGS, MAX_KEEP_RECEIVED_BYTES, MIN_KEEP_RECEIVED_BYTES, type FileSettings } from '../blobs/file-policy.js'
import { validateDisplayName, withDisplayName, type Identity } from '../../identity/identity.js'
import type { Kernel } from '../kernel.js'
import type { MembershipEngine } from '../membership/membership-engine.js'
import type { RelayService } from '../relays/relay-service.js'

export interface CoreSettings extends FileSettings {
  displayName: string
  /** Relay multiaddrs, each ending in /p2p/<relay PeerId>. */
  relays: string[]
}

/** What `update` changes; absent fields stay as they are. */
export interface SettingsPatch {
  displayName?: string | undefined
  relays?: string[] | undefined
  autoDownloadPeerBytes?: number | undefined
  autoDownloadRelayBytes?: number | undefined
  maxFileBytes?: number | undefined
  keepReceivedBytes?: number | undefined
}

const MAX_RELAYS = 32

/** The settings that are about the person, not the device: they follow the person to every device (own-sync.ts). */
export interface PersonSettings {
  displayName?: string | undefined
  relays?: string[] | undefined
}

/**
 * What the person configures: their display name (in the identity and every conversation) and their relays, which
 * are the person's and go to their other devices (devices/own-sync.ts); the file sizes, which are this device's (its
 * network, its disk) and stay here.
 */
export class Settings {
  /** Told of a change of the person's settings made on this device (not of those `applyFromOwnDevice` makes). */
  onChange: ((changed: PersonSettings) => void) | undefined

  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
    private readonly relays: RelayService,
    /** Writes the identity (wrapped with the key provider) durably: the display name lives in it. */
    private readonly saveIdentity: (identity: Identity) => Promise<void>,
  ) {}

  private fileSettings: FileSettings = DEFAULT_FILE_SETTINGS

  /** Reads what was stored (at start). */
  async load(): Promise<void> {
    const stored = await this.kernel.store.getSettings()
    // Settings stored before a field existed take its default.
    if (stored?.files !== undefined) {
      const { keepReceivedBytes, ...rest } = stored.files
      this.fileSettings = { ...rest, keepReceivedBytes: keepReceivedBytes ?? DEFAULT_FILE_SETTINGS.keepReceivedBytes }
    }
  }

  current(): CoreSettings {
    return { displayName: this.kernel.identity.displayName, relays: this.relays.configuredRelays, ...this.fileSettings }
  }

  /** Download sizes and the send limit (blobs/file-policy.ts). */
  files(): FileSettings {
    return this.fileSettings
  }

  /**
   * Changes what the person configured; everything is validated before anything is written. A new display name is
   * written as an intent first; then the identity file (so conversations created or joined from now on carry the name
   * in the device certificate) and a `profile` operation in every conversation we are a member of; then the intent is
   * cleared. `announcePendingName` at start finishes one that was interrupted.
   */
  async update(patch: SettingsPatch): Promise<CoreSettings> {
    const displayName = patch.displayName === undefined ? undefined : validateDisplayName(patch.displayName)
    const relays = patch.relays === undefined ? undefined : validateRelayAddresses(patch.relays)
    const files = fileSettingsPatch(this.fileSettings, patch)
    // Told while still on the queue, before a change from another device can be applied over this one.
    const told = () => {
      if (displayName !== undefined || relays !== undefined) this.onChange?.({ displayName, relays })
    }
    return this.write(displayName, relays, files, () => true, told)
  }

  /**
   * The person changed their name or relays on another device of theirs: the same writes as `update`, if
   * `stillWanted()` holds once it is their turn (a change made here meanwhile wins). True when written.
   */
  async applyFromOwnDevice(patch: PersonSettings, stillWanted: () => boolean): Promise<boolean> {
    const displayName = patch.displayName === undefined ? undefined : validateDisplayName(patch.displayName)
    const relays = patch.relays === undefined ? undefined : validateRelayAddresses(patch.relays)
    let written = false
    await this.write(displayName, relays, undefined, () => (written = stillWanted()))
    return written
  }

  private async write(displayName: string | undefined, relays: string[] | undefined, files: FileSettings | undefined, go: () => boolean, written: () => void = () => {}): Promise<CoreSettings> {
    const { store, queue } = this.kernel
    return queue.run(async () => {
      if (!go()) return this.current()
      if (relays !== undefined || files !== undefined) {
        const next = { relays: relays ?? this.relays.configuredRelays, files: files ?? this.fileSettings }
        await store.commit([store.putSettings(next)], true)
        if (relays !== undefined) this.relays.setConfigured(relays)
        if (files !== undefined) this.fileSettings = files
      }
      if (displayName !== undefined) {
        await store.commit([store.putPendingName(displayName)], true)
        await this.announcePendingName()
      }
      written()
      return this.current()
    })
  }

  /** Finishes a rename: the identity, then a `profile` operation where we are a member under another name. */
  async announcePendingName(): Promise<void> {
    const { store } = this.kernel
    const name = await store.getPendingName()
    if (name === undefined) return
    if (name !== this.kernel.identity.displayName) {
      const renamed = withDisplayName(this.kernel.identity, name)
      await this.saveIdentity(renamed)
      this.kernel.identity = renamed
    }
    const { account, deviceId } = this.kernel.identity
    for (const rt of this.kernel.conversations.values()) {
      // Only where we are a member with another name: a removed member cannot write, and a second device of the same
      // account that already announced this name needs no second operation.
      const me = rt.log.members.get(account)
      if (me === undefined || me.displayName === name || !me.devices.has(deviceId)) continue
      await this.engine.append(rt, { type: 'profile', name })
    }
    await store.commit([store.deletePendingName()], true)
  }
}

/** The file settings after a patch, or undefined when it changes none of them. */
function fileSettingsPatch(current: FileSettings, patch: SettingsPatch): FileSettings | undefined {
  const keys = ['autoDownloadPeerBytes', 'autoDownloadRelayBytes', 'maxFileBytes', 'keepReceivedBytes'] as const
  if (keys.every((k) => patch[k] === undefined)) return undefined
  const next = { ...current }
  for (const k of keys) {
    const value = patch[k]
    if (value === undefined) continue
    const max = k === 'keepReceivedBytes' ? MAX_KEEP_RECEIVED_BYTES : MAX_BLOB_PLAIN
    if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new HearthError('INVALID_INPUT', `${k} must be between 0 and ${max} bytes`)
    next[k] = value
  }
  if (next.maxFileBytes < 1) throw new HearthError('INVALID_INPUT', 'the largest file to send must be at least 1 byte')
  if (next.keepReceivedBytes > 0 && next.keepReceivedBytes < MIN_KEEP_RECEIVED_BYTES) {
    throw new HearthError('INVALID_INPUT', `the room for received files is at least ${MIN_KEEP_RECEIVED_BYTES} bytes (or 0 for no limit)`)
  }
  return next
}

/** Relay addresses must name the relay's PeerId, or the client could not tell a relay from an impostor. */
export function validateRelayAddresses(input: string[]): string[] {
  if (input.length > MAX_RELAYS) throw new HearthError('INVALID_INPUT', `at most ${MAX_RELAYS} relays`)
  const out: string[] = []
  for (const raw of input) {
    const text = raw.trim()
    let addr
    try {
      addr = multiaddr(text)
    } catch (err) {
      throw new HearthError('INVALID_INPUT', `not a multiaddr: ${text.slice(0, 100)}`, { cause: err })
    }
    if (addr.getComponents().at(-1)?.name !== 'p2p') {
      throw new HearthError('INVALID_INPUT', `relay address must end with /p2p/<PeerId>: ${text.slice(0, 100)}`)
    }
    if (!out.includes(text)) out.push(text)
  }
  return out
}
