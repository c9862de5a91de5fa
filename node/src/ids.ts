import { HearthError } from '../common/errors.js'
import { fromHex, toHex } from '../common/util/bytes.js'

/**
 * Identifiers have their own types so an account id cannot be passed where a device id is expected. All are lowercase
 * hex of a fixed length; `as*` functions validate text from outside (API input, wire, disk).
 */
type Brand<T, B extends string> = T & { readonly __brand: B }

/** An account's Ed25519 public key: the person. */
export type AccountId = Brand<string, 'AccountId'>
/** A device's Ed25519 signing public key. */
export type DeviceId = Brand<string, 'DeviceId'>
/** 16 random bytes chosen by the conversation's creator. */
export type ConversationId = Brand<string, 'ConversationId'>
/** 16 random bytes chosen by the sender. */
export type MessageId = Brand<string, 'MessageId'>
/** The 8-byte epoch tag derived from an epoch secret. */
export type EpochId = Brand<string, 'EpochId'>
/** SHA-256 of a signed membership operation. */
export type OpHash = Brand<string, 'OpHash'>

function hexOf(length: number, what: string) {
  const pattern = new RegExp(`^[0-9a-f]{${length}}$`)
  return (text: unknown): string => {
    if (typeof text !== 'string' || !pattern.test(text)) {
      throw new HearthError('INVALID_INPUT', `${what} must be ${length} lowercase hex characters`)
    }
    return text
  }
}

export const asAccountId = (t: unknown) => hexOf(64, 'account id')(t) as AccountId
export const asDeviceId = (t: unknown) => hexOf(64, 'device id')(t) as DeviceId
export const asConversationId = (t: unknown) => hexOf(32, 'conversation id')(t) as ConversationId
export const asMessageId = (t: unknown) => hexOf(32, 'message id')(t) as MessageId
export const asEpochId = (t: unknown) => hexOf(16, 'epoch id')(t) as EpochId
export const asOpHash = (t: unknown) => hexOf(64, 'operation hash')(t) as OpHash

export const accountIdOf = (key: Uint8Array) => toHex(key) as AccountId
export const deviceIdOf = (key: Uint8Array) => toHex(key) as DeviceId
export const idBytes = (id: string) => fromHex(id)
