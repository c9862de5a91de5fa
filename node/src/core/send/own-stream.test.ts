import { beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from '../../../common/crypto/random.js'
import { advance, keyAt, newChain } from '../../../common/crypto/sender-chain.js'
import { fromBase64Url, toBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind, openEnvelopeBody, openEnvelopeHeader, parseEnvelopeFrame } from '../../../common/wire/envelope.js'
import { deriveEpochKeys } from '../../conversation/epoch-keys.js'
import { createIdentity, type Identity } from '../../identity/identity.js'
import type { OwnChain } from '../../store/core-store.js'
import { sealOwn, sealSignal } from './own-stream.js'

let alice: Identity
beforeAll(async () => {
  alice = (await createIdentity('Alice', Date.now())).identity
})

const keys = deriveEpochKeys(randomBytes(32))
function freshChain(): OwnChain {
  const chain = newChain()
  return { initialKey: toBase64Url(chain.chainKey), cursorKey: toBase64Url(advance(chain).chainKey), next: 1, messages: 0, sentTo: [], delivered: 0 }
}
const text = (s: string) => new TextEncoder().encode(s)

/** What a member holding the epoch secret and the chain grant (the initial key) reads from an envelope. */
function read(bytes: Uint8Array, own: OwnChain) {
  const frame = parseEnvelopeFrame(bytes)
  const header = openEnvelopeHeader(frame, keys.envelope.headerKey)
  const bodyKey = header.kind === EnvelopeKind.content ? keyAt({ chainKey: fromBase64Url(own.initialKey), index: 0 }, header.seq).key : keys.controlKey
  return { seq: header.seq, kind: header.kind, body: new TextDecoder().decode(openEnvelopeBody(frame, header, bodyKey)) }
}

describe('sealOwn', () => {
  it('takes consecutive positions whatever the kind, each readable with the key a member holds for it', () => {
    let own = freshChain()
    const start = own
    const out = []
    for (const [kind, body] of [
      [EnvelopeKind.content, 'one'],
      [EnvelopeKind.membership, 'op'],
      [EnvelopeKind.keys, 'grant'],
      [EnvelopeKind.content, 'two'],
    ] as const) {
      const sealed = sealOwn(alice, keys, own, kind, text(body))
      expect(sealed.seq).toBe(own.next)
      out.push(read(sealed.bytes, start))
      own = sealed.next
    }
    expect(out).toEqual([
      { seq: 1, kind: EnvelopeKind.content, body: 'one' },
      { seq: 2, kind: EnvelopeKind.membership, body: 'op' },
      { seq: 3, kind: EnvelopeKind.keys, body: 'grant' },
      { seq: 4, kind: EnvelopeKind.content, body: 'two' },
    ])
    // The cursor moved with the positions: the next content key costs one step from it, and it is the right one.
    expect(own.next).toBe(5)
    expect(keyAt({ chainKey: fromBase64Url(own.cursorKey), index: 5 }, 5).key).toEqual(keyAt({ chainKey: fromBase64Url(start.initialKey), index: 0 }, 5).key)
    // Counting messages is the caller's business (an edit is content but not a new message).
    expect(own.messages).toBe(0)
  })

  it('does not change the chain it was given (the caller writes the next one in the same batch)', () => {
    const own = freshChain()
    const before = { ...own }
    sealOwn(alice, keys, own, EnvelopeKind.content, text('x'))
    expect(own).toEqual(before)
  })

  it('a signal has no position and opens with the control key', () => {
    const bytes = sealSignal(alice, keys, text('receipt'))
    const frame = parseEnvelopeFrame(bytes)
    const header = openEnvelopeHeader(frame, keys.envelope.headerKey)
    expect(header.seq).toBe(0)
    expect(header.kind).toBe(EnvelopeKind.signal)
    expect(new TextDecoder().decode(openEnvelopeBody(frame, header, keys.controlKey))).toBe('receipt')
  })
})
