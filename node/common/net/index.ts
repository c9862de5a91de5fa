/** Hearth's network layer: a libp2p node with Hearth's wire policy, direct request/response, and abuse controls. */
export {
  createHearthNode,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_RPC_BYTES,
  REDIAL_BACKOFF_MS,
  type DiscoverySource,
  type GossipOptions,
  type HearthNode,
  type HearthServices,
  type MessageHandler,
  type NodeOptions,
  type TopicValidator,
  type ValidationResult,
} from './create-node.js'
export {
  handleProtocol,
  request,
  requestOne,
  FRAME_DATA,
  FRAME_END,
  FRAME_ERROR,
  type HandleOptions,
  type HandlerContext,
  type ProtocolHandler,
  type ProtocolLimits,
  type RequestOptions,
} from './request-response.js'
export { RateLimiter, type RateLimiterOptions } from './rate-limiter.js'
export { PeerPenalties, type PeerPenaltiesOptions } from './peer-penalties.js'
