// The public API of crdt/: the pure document model of a conversation's history.
export { CrdtError, isCrdtError, type CrdtErrorCode } from './errors.js'
export {
  asActorId,
  asMessageId,
  asShardIndex,
  isActorId,
  isMessageId,
  isShardIndex,
  type ActorId,
  type MessageId,
  type ShardIndex,
} from './ids.js'
export { parseRefKey, refKey, sameRef, type MessageRef, type RefKey } from './ref.js'
export {
  HLC_MAX_COUNTER,
  HLC_MAX_DRIFT_MS,
  HLC_MAX_WALL,
  HLC_ZERO,
  compareHlc,
  decodeHlc,
  encodeHlc,
  hlcNow,
  hlcReceive,
  isEncodedHlc,
  isHlc,
  type Hlc,
} from './hlc.js'
export { MAX_ORDER_SEQ, compareOrderKeys, orderKey, orderKeySeq, type OrderKey } from './order.js'
export {
  MAX_ATTACHMENTS,
  MAX_ATTACHMENT_NAME_CHARS,
  MAX_BODY_CHARS,
  MAX_BOX_BYTES,
  MAX_MEDIA_BYTES,
  MAX_EMOJI_CHARS,
  MAX_MENTIONS,
  MAX_MIME_CHARS,
  type Shard,
  type ShardRoot,
} from './schema.js'
export {
  SHARD_CAPACITY,
  createShard,
  loadShard,
  missingDeps,
  saveShard,
  saveSince,
  shardHeads,
  shardOf,
} from './shard.js'
export {
  validateRemoteChange,
  validateShardHistory,
  type HistoryValidation,
  type ValidationResult,
} from './authorship.js'
export {
  deleteMessage,
  editMessage,
  deleteAsAdmin,
  react,
  sendMessage,
  setReaction,
  type DeleteInput,
  type EditInput,
  type OpResult,
  type ReactInput,
  type SendInput,
  type SetReactionInput,
} from './ops.js'
export {
  applyRemoteChanges,
  touchedBetween,
  type ApplyResult,
  type RejectedChange,
  type TouchedSet,
} from './apply.js'
export {
  actorsIn,
  adminDeletesOf,
  hasReaction,
  listMessages,
  messageCount,
  messageVersions,
  reactionsOf,
  readMessage,
  subtreeOf,
  type AttachmentView,
  type MessageVersion,
  type MessageView,
} from './selectors.js'
