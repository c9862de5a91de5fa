import { MAX_FILE_PIECE_BYTES } from '../../node/src/api/contract.js'
import type { MessageView } from '../../node/src/api/types.js'
import type { ConversationId } from '../../node/src/ids.js'
import type { TestCore } from './cores.js'

const PIECE = MAX_FILE_PIECE_BYTES

/** Sends `bytes` as a file of a new message, the way the UI does: begin, append in pieces, send. */
export async function sendFile(c: TestCore, id: ConversationId, name: string, bytes: Uint8Array, kind: 'image' | 'file' = 'file', caption = ''): Promise<MessageView> {
  const { uploadId } = await c.core.files.begin(id, name, bytes.length)
  for (let at = 0; at < bytes.length; at += PIECE) await c.core.files.append(uploadId, bytes.subarray(at, at + PIECE))
  return c.core.files.send(id, caption, [{ uploadId, kind }])
}

/** A file's whole plaintext, read back through the API in pieces as the UI reads it. */
export async function readAll(c: TestCore, id: ConversationId, messageId: string, index = 0): Promise<Uint8Array> {
  const parts: Buffer[] = []
  let size = Infinity
  for (let at = 0; at < size; at += PIECE) {
    const piece = await c.core.files.read(id, messageId, index, at, PIECE)
    size = piece.size
    parts.push(Buffer.from(piece.data, 'base64'))
    if (piece.size === 0) break
  }
  return new Uint8Array(Buffer.concat(parts))
}

/** The state the message's first file shows on `c` now. */
export async function fileState(c: TestCore, id: ConversationId, messageId: string): Promise<string | undefined> {
  return (await c.core.page(id)).messages.find((m) => m.id === messageId)?.attachments?.[0]?.state
}
