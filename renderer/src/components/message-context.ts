/**
 * What the message list hands its rows without going through every render call: the composer's reply and edit
 * modes, and jumping to a quoted message (which may take loading older pages).
 */
import { createContext, useContext } from 'react'
import type { MessageView } from '../../../node/src/api/types.js'

export interface MessageListControls {
  /** Puts the composer in reply mode for this message. */
  onReply?: ((message: MessageView) => void) | undefined
  /** Puts the composer in edit mode for this message of mine. */
  onEdit?: ((message: MessageView) => void) | undefined
  /** Scrolls to a message, loading older pages until it is found, and highlights it briefly. */
  jumpTo(messageId: string): void
  /** The message just jumped to (highlighted for a moment), or null. */
  highlighted: string | null
}

export const MessageListContext = createContext<MessageListControls>({ jumpTo: () => {}, highlighted: null })

export function useMessageListControls(): MessageListControls {
  return useContext(MessageListContext)
}
