/**
 * Where a blob's bytes can come from. The fetcher (blob-fetcher.ts) asks sources through this one interface, so a
 * member's device (`peerSource`, over /hearth/blob/1.0.0) and a relay (the relay blob client, same response shapes)
 * are interchangeable. A source only moves bytes: it checks the response's shape (blob-frames.ts) but not whether
 * the bytes are right; the store verifies every chunk against the hash list and the hash list against the blob id.
 */
import { request, requestOne } from '../../../common/net/request-response.js'
import type { HearthNode } from '../../../common/net/create-node.js'
import {
  BLOB_LIMITS,
  BLOB_PROTOCOL,
  checkHashListFrame,
  encodeBlobRequest,
  readChunkReply,
  type BlobChunk,
  type ChunkReply,
} from './blob-frames.js'

export type { BlobChunk, ChunkReply }

/** Which blob a request is about. `conversation` is 32 hex digits, `id` the blob id in 64 hex digits. */
export interface BlobTarget {
  conversation: string
  id: string
}

/**
 * One place a blob may be fetched from.
 *
 * - `key` names the source for the job's bookkeeping (which source was dropped, excluded, scored down). Stable
 *   across calls: `peer:<PeerId>` or `relay:<PeerId>`.
 * - `hashList` resolves to the hash list bytes (shape-checked, not yet verified) or throws a HearthError:
 *   NOT_FOUND when the source does not hold the blob (or will not give it to us: the same answer).
 * - `chunks` asks for the window [first, first + count) (count 1..16) and resolves once the source said which of
 *   them it holds; the chunks then arrive ascending. Errors: NOT_FOUND as above, PROTOCOL_ERROR when the source broke
 *   the response rules, TIMEOUT/UNREACHABLE when the link failed, RATE_LIMITED when it asks us to slow down.
 *
 * Both take an AbortSignal: the fetcher aborts it on its own deadlines (30 s per request, 15 s of silence), on
 * pause/cancel, and when it stops reading early. A source must stop and release the stream when it fires.
 */
export interface BlobSource {
  readonly key: string
  readonly kind: 'peer' | 'relay'
  hashList(target: BlobTarget, signal: AbortSignal): Promise<Uint8Array>
  chunks(target: BlobTarget, first: number, count: number, signal: AbortSignal): Promise<ChunkReply>
}

/** The key of a member device's source. */
export function peerSourceKey(peer: string): string {
  return `peer:${peer}`
}

/** A member's device, asked over /hearth/blob/1.0.0 on the node's connection to it. */
export function peerSource(node: HearthNode, peer: string): BlobSource {
  return {
    key: peerSourceKey(peer),
    kind: 'peer',
    async hashList(target, signal) {
      const frame = await requestOne(node, peer, BLOB_PROTOCOL, encodeBlobRequest({ ...target, q: 'h' }), BLOB_LIMITS, { signal })
      return checkHashListFrame(frame)
    },
    async chunks(target, first, count, signal) {
      const body = encodeBlobRequest({ ...target, q: 'c', first, count })
      return readChunkReply(request(node, peer, BLOB_PROTOCOL, body, BLOB_LIMITS, { signal }), first, count)
    },
  }
}
