import { open, seal } from '../../../common/crypto/aead.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { utf8 } from '../../../common/util/bytes.js'

/**
 * Per-message content keys (docs/adr/0020): a text message's body and every edit of it are sealed with a key made for
 * that message and kept outside the history, so that forgetting the key on delete leaves nothing readable.
 */
export const newContentKey = (): Uint8Array => randomBytes(32)

const ad = (conversation: string, message: string) => utf8(`hearth/v1/content/${conversation}/${message}`)

export function sealText(key: Uint8Array, conversation: string, message: string, text: string): Uint8Array {
  return seal(key, utf8(text), ad(conversation, message))
}

/** The text, or undefined when the key does not open the box (a box that is not this message's). */
export function openText(key: Uint8Array, conversation: string, message: string, box: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(open(key, box, ad(conversation, message)))
  } catch {
    return undefined
  }
}
