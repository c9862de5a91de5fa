/**
 * Sending a file's bytes to the core: files.begin, then files.append in pieces (base64 inside a JSON request), read
 * from the Blob one piece at a time so a 100 MiB file never sits in memory as a whole. The upload id then goes into
 * messages.send. Stopping (the person cancels, or the send fails) aborts the upload so the core drops what it stored.
 */
import { HearthError } from '../../../node/common/errors.js'
import { MAX_FILE_PIECE_BYTES } from '../../../node/src/api/contract.js'
import { MAX_API_MESSAGE_BYTES } from '../../../node/src/api/protocol.js'
import type { Api } from '../api/client.js'
import { bytesToBase64 } from './base64.js'

/**
 * The bytes of one files.append: as many as the contract takes, but small enough that their base64 (4 characters per
 * 3 bytes) and the request around it fit in one API message, which carries at most MAX_API_MESSAGE_BYTES.
 */
export const UPLOAD_PIECE_BYTES = Math.min(MAX_FILE_PIECE_BYTES, Math.floor((MAX_API_MESSAGE_BYTES - 4096) / 4) * 3)

export interface UploadOptions {
  /** Bytes the core has taken so far, of `total`. */
  onProgress?(sent: number, total: number): void
  signal?: AbortSignal
}

/** Uploads `blob` under `name`; resolves with the upload id for messages.send. */
export async function uploadFile(api: Api, conversationId: string, name: string, blob: Blob, options: UploadOptions = {}): Promise<string> {
  const { signal, onProgress } = options
  signal?.throwIfAborted()
  const { uploadId } = await api.call('files.begin', { conversationId, name, size: blob.size })
  try {
    let sent = 0
    onProgress?.(0, blob.size)
    while (sent < blob.size) {
      signal?.throwIfAborted()
      const piece = new Uint8Array(await blob.slice(sent, sent + UPLOAD_PIECE_BYTES).arrayBuffer())
      // A Blob whose file changed on disk since it was picked reads short: better refused here than sent wrong.
      if (piece.length === 0) throw new HearthError('INVALID_INPUT', `${name} changed while it was being sent`)
      const { received } = await api.call('files.append', { uploadId, data: bytesToBase64(piece) })
      sent += piece.length
      if (received !== sent) throw new HearthError('INTERNAL', `the core holds ${received} bytes of ${name}, ${sent} were sent`)
      onProgress?.(sent, blob.size)
    }
    signal?.throwIfAborted()
    return uploadId
  } catch (err) {
    // Best effort: an upload left behind is dropped by the core after 10 idle minutes anyway.
    api.call('files.abort', { uploadId }).catch(() => {})
    throw err
  }
}
