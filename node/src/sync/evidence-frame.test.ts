import { describe, expect, it } from 'vitest'
import { codeOf } from '../../common/wire/codec-testing.js'
import { encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { decodeSyncFrame, encodeSyncFrame } from './sync-frames.js'

describe("sync frame 'evidence'", () => {
  it('round trips, and is bounded like an envelopes page', () => {
    const envelopes = [new Uint8Array(300).fill(1), new Uint8Array([2])]
    const decoded = decodeSyncFrame(encodeSyncFrame({ kind: 'evidence', envelopes }))
    expect(decoded).toEqual({ kind: 'evidence', envelopes })
    const tooMany = encodeCbor({ k: 'evid', e: Array.from({ length: Limits.maxEnvelopesPerPage + 1 }, () => new Uint8Array(1)) })
    expect(codeOf(() => decodeSyncFrame(tooMany))).toBe('MALFORMED')
    expect(codeOf(() => decodeSyncFrame(encodeCbor({ k: 'evid', e: ['text'] })))).toBe('MALFORMED')
  })
})
