import { drop } from '../../../common/errors.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import type { ChatRequests } from '../network/chat-requests.js'
import type { ConversationPrefsStore } from './conversation-prefs.js'

/**
 * Preferences that follow what happens: a message that would notify brings an archived conversation back, and a chat
 * request is answered once the asked person is in its conversation. Returns the unsubscribe.
 */
export function followPrefs(kernel: Kernel, prefs: ConversationPrefsStore, readModel: ReadModel, chatRequests: ChatRequests): () => void {
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
  return () => {
    offMessages()
    offMembers()
  }
}
