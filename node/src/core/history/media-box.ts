import { z } from 'zod'
import { MAX_MEDIA_BYTES } from '../../../../crdt/src/index.js'
import { MAX_BLOB_PLAIN, paddedSize } from '../../../common/blob/format.js'
import { open, seal } from '../../../common/crypto/aead.js'
import { HearthError } from '../../../common/errors.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { bytes, parseWire, uint } from '../../../common/wire/schema.js'
import { fromBase64Url, fromHex, toHex, utf8 } from '../../../common/util/bytes.js'

/**
 * A message's files, as its author described them: sealed under the message's content key (docs/adr/0020) next to the
 * caption, so deleting the message forgets every file's key and id with the text. The blob id commits to every chunk
 * of the encrypted file (node/common/blob/format.ts); the key opens them.
 */
export interface StoredFile {
  /** The blob's id: 64 lowercase hex characters. */
  blob: string
  /** The file's own key (32 bytes): never stored anywhere but here, in the sealed message and its row. */
  key: Uint8Array
  /** Bytes of the file. */
  size: number
  /** Bytes of the padded plaintext the blob encrypts (its chunk count follows). */
  padded: number
  name: string
  /** As the author's device sniffed it from the bytes; the receiver sniffs again once the file is here. */
  mime: string
  kind: 'image' | 'file'
  width?: number | undefined
  height?: number | undefined
  /** A thumbhash of the image (about 25 bytes). */
  thumbhash?: Uint8Array | undefined
}

/** At most this many files in one message. */
export const MAX_FILES_PER_MESSAGE = 10
const MAX_THUMBHASH_BYTES = 64

const fileSchema = z.object({
  i: bytes(32),
  k: bytes(32),
  s: uint,
  p: uint,
  n: z.string().min(1).max(255),
  m: z.string().min(1).max(255),
  f: z.enum(['image', 'file']),
  w: z.number().int().min(1).max(65_535).optional(),
  h: z.number().int().min(1).max(65_535).optional(),
  th: bytes().refine((b) => b.length > 0 && b.length <= MAX_THUMBHASH_BYTES).optional(),
})
const mediaSchema = z.object({ a: z.array(fileSchema).min(1).max(MAX_FILES_PER_MESSAGE) })

const ad = (conversation: string, message: string) => utf8(`hearth/v1/media/${conversation}/${message}`)

export function encodeFiles(files: readonly StoredFile[]): Uint8Array {
  return encodeCbor({
    a: files.map((f) => ({
      i: fromHex(f.blob),
      k: f.key,
      s: f.size,
      p: f.padded,
      n: f.name,
      m: f.mime,
      f: f.kind,
      ...(f.width === undefined ? {} : { w: f.width }),
      ...(f.height === undefined ? {} : { h: f.height }),
      ...(f.thumbhash === undefined ? {} : { th: f.thumbhash }),
    })),
  })
}

/** Parses what `encodeFiles` wrote; anything else (another member's device may write anything) is MALFORMED. */
export function decodeFiles(encoded: Uint8Array): StoredFile[] {
  const raw = parseWire(mediaSchema, decodeCbor(encoded, MAX_MEDIA_BYTES, 'files'), 'files')
  return raw.a.map((f) => {
    // The padded size follows from the size (within the bucket's 5 %: compared with a margin, since it is computed in
    // floating point by the sender); a blob of another length cannot be this file.
    if (f.s > MAX_BLOB_PLAIN || f.p < f.s || f.p > Math.max(paddedSize(0), Math.ceil(f.s * 1.06))) {
      throw new HearthError('MALFORMED', 'a file whose padded size does not match its size')
    }
    const file: StoredFile = { blob: toHex(f.i), key: f.k, size: f.s, padded: f.p, name: f.n, mime: f.m, kind: f.f }
    if (f.w !== undefined) file.width = f.w
    if (f.h !== undefined) file.height = f.h
    if (f.th !== undefined) file.thumbhash = f.th
    return file
  })
}

export function sealFiles(contentKey: Uint8Array, conversation: string, message: string, files: readonly StoredFile[]): Uint8Array {
  return seal(contentKey, encodeFiles(files), ad(conversation, message))
}

/** The files, or [] when the key does not open the box or what it holds is not a valid list (never throws). */
export function openFiles(contentKey: Uint8Array | undefined, conversation: string, message: string, box: Uint8Array | undefined): StoredFile[] {
  if (contentKey === undefined || box === undefined) return []
  try {
    return decodeFiles(open(contentKey, box, ad(conversation, message)))
  } catch {
    return []
  }
}

/** The files a stored row names (its own copy of the sealed list); [] when it has none or the copy is damaged. */
export function filesOf(row: { files?: string | undefined }): StoredFile[] {
  if (row.files === undefined) return []
  try {
    return decodeFiles(fromBase64Url(row.files))
  } catch {
    return []
  }
}
