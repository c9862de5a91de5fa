/**
 * The safety number code a person scans (docs/adr/0031-safety-numbers.md) under hostile input: mutated and random
 * bytes give a typed refusal or a payload that re-encodes to itself, and never a match unless it is the honest code.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeSafetyQr, encodeSafetyQr, safetyNumber, scannedMatches } from '../../node/common/crypto/safety-number.js'
import { equalBytes } from '../../node/common/util/bytes.js'
import { fuzz, hostileBytes, outcome, runs, SHORT_RUNS, talliesReportedAfterEach } from './fuzz-kit.js'

const tally = talliesReportedAfterEach()

const party = (fill: number) => {
  const key = new Uint8Array(32).fill(fill)
  return { key, id: key }
}
// Few rounds: the payload's shape is what is under test, not the work factor.
const fromAlice = safetyNumber(party(1), party(2), 10)
const fromBob = safetyNumber(party(2), party(1), 10)
const honest = decodeSafetyQr(fromBob.qr)

describe('safety number code decoder', () => {
  it('decodeSafetyQr: a payload that re-encodes to itself, or MALFORMED/UNSUPPORTED_VERSION', () => {
    const t = tally('safety number code')
    fuzz(
      fc.property(hostileBytes([fromAlice.qr, fromBob.qr]), (input) => {
        outcome(
          t,
          () => decodeSafetyQr(input),
          (p) => {
            expect(p.local.length).toBe(32)
            expect(p.remote.length).toBe(32)
            expect(encodeSafetyQr(p.local, p.remote)).toEqual(input)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
  })

  it('scannedMatches: only the honest code matches', () => {
    const t = tally('safety number match')
    expect(scannedMatches(fromAlice.qr, fromBob.qr)).toBe(true)
    fuzz(
      fc.property(hostileBytes([fromBob.qr]), (input) => {
        outcome(
          t,
          () => scannedMatches(fromAlice.qr, input),
          (matched) => {
            // A match means the code carries exactly bob's two fingerprints, however its bytes were spelled.
            const p = decodeSafetyQr(input)
            expect(matched).toBe(equalBytes(p.local, honest.local) && equalBytes(p.remote, honest.remote))
          },
        )
      }),
      runs(SHORT_RUNS),
    )
  })
})
