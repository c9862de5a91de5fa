import * as Automerge from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { isCrdtError } from './errors.js'
import { asActorId, asMessageId } from './ids.js'
import { deleteMessage, editMessage, sendMessage } from './ops.js'
import { MAX_MEDIA_BYTES } from './schema.js'
import { readMessage } from './selectors.js'
import { createShard } from './shard.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const id = asMessageId('0'.repeat(31) + '1')
const T = 1_700_000_000_000
const box = new Uint8Array([1, 2, 3])
const media = new Uint8Array([9, 8, 7, 6])

describe('sealed files (media) on a message', () => {
  it('travels with the message and survives a caption edit', () => {
    const sent = sendMessage(createShard(alice), alice, { id, body: '', box, media, hlc: { wall: T, counter: 0 }, seq: 0 })
    const received = applyRemoteChanges(createShard(bob), [sent.change]).doc
    expect(readMessage(received, alice, id)?.media).toEqual(media)
    const edited = editMessage(sent.doc, alice, { id, body: '', box: new Uint8Array([4]), hlc: { wall: T + 1, counter: 0 } })
    expect(readMessage(edited.doc, alice, id)?.media).toEqual(media)
    expect(readMessage(edited.doc, alice, id)?.box).toEqual(new Uint8Array([4]))
  })

  it('is gone from the current state once the message is deleted', () => {
    const sent = sendMessage(createShard(alice), alice, { id, body: '', box, media, hlc: { wall: T, counter: 0 }, seq: 0 })
    const deleted = deleteMessage(sent.doc, alice, { id })
    const view = readMessage(deleted.doc, alice, id)
    expect(view?.deleted).toBe(true)
    expect(view?.media).toBeUndefined()
    expect((deleted.doc[alice]?.m[id] as { media?: unknown } | undefined)?.media).toBeUndefined()
  })

  it('refuses files without a sealed caption, empty or oversized ones', () => {
    const base = { id, body: 'hi', hlc: { wall: T, counter: 0 }, seq: 0 }
    const refused = (input: Parameters<typeof sendMessage>[2]) => {
      try {
        sendMessage(createShard(alice), alice, input)
        return undefined
      } catch (err) {
        return isCrdtError(err) ? err.code : 'other'
      }
    }
    expect(refused({ ...base, media })).toBe('INVALID_INPUT')
    expect(refused({ ...base, body: '', box, media: new Uint8Array(0) })).toBe('INVALID_INPUT')
    expect(refused({ ...base, body: '', box, media: new Uint8Array(MAX_MEDIA_BYTES + 1) })).toBe('TOO_LARGE')
  })

  it('a reader skips a media field that is not bytes or is too long (a hostile writer)', () => {
    const sent = sendMessage(createShard(alice), alice, { id, body: '', box, hlc: { wall: T, counter: 0 }, seq: 0 })
    const hostile = Automerge.change(sent.doc, (root) => {
      ;(root[alice]!.m[id] as unknown as { media: unknown }).media = new Uint8Array(MAX_MEDIA_BYTES + 1)
    })
    expect(readMessage(hostile, alice, id)?.media).toBeUndefined()
    const text = Automerge.change(Automerge.clone(sent.doc), (root) => {
      ;(root[alice]!.m[id] as unknown as { media: unknown }).media = 'not bytes'
    })
    expect(readMessage(text, alice, id)?.media).toBeUndefined()
    expect(readMessage(text, alice, id)?.box).toEqual(box)
  })
})
