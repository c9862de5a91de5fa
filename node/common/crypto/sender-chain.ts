import { HearthError } from '../errors.js'
import { hmacSha256 } from './kdf.js'
import { randomBytes } from './random.js'

/**
 * One sending device's symmetric hash ratchet (Signal's sender-key chain). Each step is one-way, so holding the
 * chain at index n reveals nothing about messages before n: a device deletes old states to get forward secrecy.
 * States are immutable values; every function returns a new one.
 */
export interface ChainState {
  readonly chainKey: Uint8Array
  readonly index: number
}

const MESSAGE_KEY_INPUT = new Uint8Array([0x01])
const NEXT_CHAIN_INPUT = new Uint8Array([0x02])

export const DEFAULT_MAX_SKIP = 100_000

export function newChain(): ChainState {
  return { chainKey: randomBytes(32), index: 0 }
}

export function messageKey(state: ChainState): Uint8Array {
  return hmacSha256(state.chainKey, MESSAGE_KEY_INPUT)
}

export function advance(state: ChainState): ChainState {
  return { chainKey: hmacSha256(state.chainKey, NEXT_CHAIN_INPUT), index: state.index + 1 }
}

/**
 * The key for message `targetIndex` and the state just after it. `maxSkip` bounds the work a forged or absurd
 * index can make a receiver do; it counts hash steps from the current state.
 */
export function keyAt(
  state: ChainState,
  targetIndex: number,
  maxSkip: number = DEFAULT_MAX_SKIP,
): { key: Uint8Array; next: ChainState } {
  if (!Number.isSafeInteger(targetIndex) || targetIndex < state.index) {
    throw new HearthError('INVALID_INPUT', `chain index ${targetIndex} is before ${state.index} or not an integer`)
  }
  if (targetIndex - state.index > maxSkip) {
    throw new HearthError('INVALID_INPUT', `chain index ${targetIndex} skips more than ${maxSkip} from ${state.index}`)
  }
  let current = state
  while (current.index < targetIndex) current = advance(current)
  return { key: messageKey(current), next: advance(current) }
}
