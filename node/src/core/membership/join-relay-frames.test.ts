import { describe, expect, it } from 'vitest'
import { generateSigningKeyPair } from '../../../common/crypto/ed25519.js'
import { deriveMailboxKeys } from '../../../common/crypto/mailbox-capability.js'
import { encodeCbor } from '../../../common/wire/cbor.js'
import { deriveEpochKeys } from '../../conversation/epoch-keys.js'
import { deviceIdOf, type ConversationId } from '../../ids.js'
import {
  MAX_ITEM_BYTES,
  answerItems,
  decodeItem,
  deviceProofValid,
  directoryEntry,
  directoryKeys,
  encodeItem,
  entryProven,
  inviteMailboxSecret,
  openDirectoryEntry,
  sealDirectoryEntry,
  signDeviceProof,
} from './join-relay-frames.js'

const conversation = '11'.repeat(16) as ConversationId
const inviteId = 'ab'.repeat(16)
const invite = generateSigningKeyPair()
const epoch = deriveEpochKeys(new Uint8Array(32).fill(7))

describe('joining through a relay: keys and items', () => {
  it('a directory entry seals to the same bytes every time, opens only in its epoch and conversation, and is proven by the invite key', () => {
    const { sealKey } = directoryKeys(epoch)
    const entry = directoryEntry(conversation, inviteId, invite.seed)
    expect(entry.mailboxSecret).toEqual(inviteMailboxSecret(invite.seed))
    const box = sealDirectoryEntry(sealKey, conversation, entry)
    expect(sealDirectoryEntry(sealKey, conversation, entry)).toEqual(box)
    const opened = openDirectoryEntry(sealKey, conversation, box)!
    expect(entryProven(conversation, opened, invite.publicKey)).toBe(true)
    expect(entryProven(conversation, opened, generateSigningKeyPair().publicKey)).toBe(false)
    expect(openDirectoryEntry(directoryKeys(deriveEpochKeys(new Uint8Array(32).fill(8))).sealKey, conversation, box)).toBeUndefined()
    expect(openDirectoryEntry(sealKey, '22'.repeat(16) as ConversationId, box)).toBeUndefined()
    expect(openDirectoryEntry(sealKey, conversation, box.subarray(0, 30))).toBeUndefined()
    // A member pointing admins at another mailbox: a secret the invite key never signed.
    const forged = { ...entry, mailboxSecret: new Uint8Array(32).fill(1) }
    expect(entryProven(conversation, openDirectoryEntry(sealKey, conversation, sealDirectoryEntry(sealKey, conversation, forged))!, invite.publicKey)).toBe(false)
  })

  it('the directory and the invite mailbox are different mailboxes, neither the epoch mailbox', () => {
    const ids = [deriveMailboxKeys(epoch.mailboxSecret), deriveMailboxKeys(directoryKeys(epoch).mailboxSecret), deriveMailboxKeys(inviteMailboxSecret(invite.seed))].map((k) =>
      Buffer.from(k.mailboxId).toString('hex'),
    )
    expect(new Set(ids).size).toBe(3)
  })

  it('the device proof binds the request to the device and the mailbox', () => {
    const device = generateSigningKeyPair()
    const request = new Uint8Array([1, 2, 3])
    const mailbox = new Uint8Array(32).fill(5)
    const proof = signDeviceProof(device.seed, request, mailbox)
    const id = deviceIdOf(device.publicKey)
    expect(deviceProofValid(id, request, mailbox, proof)).toBe(true)
    expect(deviceProofValid(deviceIdOf(generateSigningKeyPair().publicKey), request, mailbox, proof)).toBe(false)
    expect(deviceProofValid(id, new Uint8Array([1, 2, 4]), mailbox, proof)).toBe(false)
    expect(deviceProofValid(id, request, new Uint8Array(32).fill(6), proof)).toBe(false)
  })

  it('items round-trip; garbage, unknown kinds or versions and oversized items are refused', () => {
    const request = { type: 'request' as const, request: new Uint8Array(100).fill(3), deviceProof: new Uint8Array(64).fill(4) }
    expect(decodeItem(encodeItem(request))).toEqual(request)
    const to = deviceIdOf(generateSigningKeyPair().publicKey)
    expect(decodeItem(encodeItem({ type: 'answer', to, ops: [new Uint8Array([9])] }))).toEqual({ type: 'answer', to, ops: [new Uint8Array([9])] })
    expect(() => decodeItem(new Uint8Array([0xff, 0x00]))).toThrow()
    expect(() => decodeItem(encodeCbor({ v: 1, t: 'x', q: new Uint8Array(1), z: new Uint8Array(64) }))).toThrow()
    expect(() => decodeItem(encodeCbor({ v: 2, t: 'q', q: new Uint8Array(1), z: new Uint8Array(64) }))).toThrow()
    expect(() => decodeItem(encodeCbor({ v: 1, t: 'q', q: new Uint8Array(17 * 1024), z: new Uint8Array(64) }))).toThrow()
    expect(() => decodeItem(new Uint8Array(MAX_ITEM_BYTES + 1))).toThrow()
  })

  it('a long log is split over items that each fit a relay envelope, in order', () => {
    const ops = Array.from({ length: 150 }, (_, i) => new Uint8Array(700).fill(i % 256))
    const items = answerItems(deviceIdOf(new Uint8Array(32).fill(2)), ops)
    expect(items.length).toBeGreaterThan(1)
    for (const item of items) expect(item.length).toBeLessThanOrEqual(MAX_ITEM_BYTES)
    const back = items.flatMap((b) => {
      const item = decodeItem(b)
      return item.type === 'answer' ? item.ops : []
    })
    expect(back).toEqual(ops)
  })
})

describe('invite mailbox items on the relay', () => {
  it('are sealed: the relay sees no request or log, the same item seals to the same bytes, another key opens nothing', async () => {
    const { itemSealKey, openItem, sealItem } = await import('./join-relay-frames.js')
    const secret = inviteMailboxSecret(invite.seed)
    const mailboxId = deriveMailboxKeys(secret).mailboxId
    const key = itemSealKey(secret)
    const plain = encodeItem({ type: 'request', request: new Uint8Array(Buffer.from(`request for ${conversation}`)), deviceProof: new Uint8Array(64) })
    const box = sealItem(key, mailboxId, plain)
    expect(Buffer.from(box).includes(Buffer.from(conversation))).toBe(false)
    expect(sealItem(key, mailboxId, plain)).toEqual(box)
    expect(openItem(key, mailboxId, box).type).toBe('request')
    expect(() => openItem(itemSealKey(new Uint8Array(32).fill(3)), mailboxId, box)).toThrow()
    expect(() => openItem(key, new Uint8Array(32), box)).toThrow()
  })
})
