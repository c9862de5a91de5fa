import { drop } from '../../../common/errors.js'
import { OwnSync } from '../devices/own-sync.js'
import type { OwnDrafts } from '../devices/own-sync-drafts.js'
import type { OwnVerifiedMarks } from '../devices/own-sync-verified.js'
import type { DeviceLabels } from '../devices/device-labels.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import type { ChatRequests } from '../network/chat-requests.js'
import type { ConversationPrefsStore } from './conversation-prefs.js'
import type { Settings } from './settings.js'

export interface FollowPrefsParts {
  prefs: ConversationPrefsStore
  settings: Settings
  readModel: ReadModel
  chatRequests: ChatRequests
  /** Names of this account's devices, kept in step by own-sync (devices/device-labels.ts). */
  labels: DeviceLabels
  /** The API's drafts, kept in the own-sync map (devices/own-sync-drafts.ts). */
  drafts: OwnDrafts
  /** Who the person verified, kept in step by own-sync (devices/own-sync-verified.ts). */
  verified: OwnVerifiedMarks
  /** The peer is another device of our account (devices/devices.ts). */
  isOwnDevicePeer(peer: string): boolean
}

/**
 * Preferences that follow what happens: a message that would notify brings an archived conversation back, a chat
 * request is answered once the asked person is in its conversation, and what the person sets on one of their devices
 * is set on the others (devices/own-sync.ts). Returns the unsubscribe.
 */
export async function followPrefs(kernel: Kernel, parts: FollowPrefsParts): Promise<() => void> {
  const { prefs, readModel, chatRequests } = parts
  const offMessages = kernel.events.on('message.added', ({ conversation, message }) => {
    if (message.mine || message.withdrawn || message.hidden) return
    drop(
      prefs.arrived(conversation, message.mentionsMe === true).then((unarchived) => {
        if (unarchived) readModel.emitConversation(conversation)
      }),
      (err) => kernel.log.warn({ err }, 'un-archiving failed'),
    )
  })
  const offMembers = kernel.events.on('members.changed', ({ conversation, members }) => chatRequests.joined(conversation, members.length))
  const ownSync = new OwnSync(kernel, {
    ...parts,
    // A device revoked in any conversation is no longer ours, even where the revocation has not arrived yet.
    isOwnDevicePeer: (peer) => parts.isOwnDevicePeer(peer) && !revokedPeer(kernel, peer),
    emitConversation: (id) => readModel.emitConversation(id),
  })
  const offOwnSync = await ownSync.start()
  const detachDrafts = parts.drafts.attach(ownSync)
  return () => {
    offMessages()
    offMembers()
    detachDrafts()
    offOwnSync()
  }
}

function revokedPeer(kernel: Kernel, peer: string): boolean {
  for (const rt of kernel.conversations.values()) {
    for (const device of rt.log.revokedDevices.keys()) if (rt.log.knownDevices.get(device)?.peerId === peer) return true
  }
  return false
}
