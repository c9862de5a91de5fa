import { readFileSync } from 'node:fs'
import { ed25519 } from '@noble/curves/ed25519.js'
import { hkdf as rawHkdf } from '@noble/hashes/hkdf.js'
import { sha256 as rawSha256 } from '@noble/hashes/sha2.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { concatBytes, equalBytes, fromHex } from '../util/bytes.js'
import { openWithNonce, sealWithNonce } from './aead.js'
import { nobleVerify, verify } from './ed25519.js'
import { hmacSha256 } from './kdf.js'
import { dh } from './x25519.js'
import { openWithOpenSsl, sealWithOpenSsl, xchachaReady } from './xchacha20poly1305.js'

/*
 * Every case in each file runs, and the count is checked against the file's own `numberOfTests`, so a vector that
 * is silently skipped (a renamed field, a filter gone wrong) fails the test instead of shrinking it.
 */

type Result = 'valid' | 'invalid' | 'acceptable'
interface Case {
  tcId: number
  comment: string
  result: Result
  [field: string]: unknown
}
interface Group {
  tests: Case[]
  [field: string]: unknown
}
interface VectorFile {
  numberOfTests: number
  testGroups: Group[]
}

const vectorDir = new URL('../../../test/vectors/wycheproof/', import.meta.url)

function load(name: string): VectorFile {
  return JSON.parse(readFileSync(new URL(name, vectorDir), 'utf8')) as VectorFile
}

function hex(c: Case | Group, field: string): Uint8Array {
  const value = c[field]
  if (typeof value !== 'string') throw new Error(`field ${field} is not a hex string`)
  return fromHex(value)
}

function num(g: Group | Case, field: string): number {
  const value = g[field]
  if (typeof value !== 'number') throw new Error(`field ${field} is not a number`)
  return value
}

/** Runs `check` on every case; returns the ids that failed so one assertion shows them all. */
function runAll(file: VectorFile, check: (c: Case, g: Group) => boolean): { ran: number; failed: number[] } {
  let ran = 0
  const failed: number[] = []
  for (const group of file.testGroups) {
    for (const c of group.tests) {
      ran++
      let ok: boolean
      try {
        ok = check(c, group)
      } catch (err) {
        ok = false
        failed.push(c.tcId)
        console.error(`tcId ${c.tcId} threw`, err)
        continue
      }
      if (!ok) failed.push(c.tcId)
    }
  }
  return { ran, failed }
}

function throwsOrDiffers(run: () => Uint8Array, expected: Uint8Array | undefined): boolean {
  try {
    const out = run()
    return expected === undefined || !equalBytes(out, expected)
  } catch {
    return true
  }
}

describe('Wycheproof', () => {
  it('ed25519: node:crypto verify, nobleVerify and stock noble all match every case and each other', () => {
    const file = load('ed25519_test.json')
    const disagreements: number[] = []
    const { ran, failed } = runAll(file, (c, g) => {
      const pk = hex(g['publicKey'] as Group, 'pk')
      const msg = hex(c, 'msg')
      const sig = hex(c, 'sig')
      const viaNode = verify(pk, msg, sig)
      const viaNoble = nobleVerify(pk, msg, sig)
      // Stock noble strict verification too, so the vectors also pin the library this layer builds on.
      // It throws on wrong lengths (which is why `verify` wraps it); count that as a rejection.
      const viaStockNoble = ((): boolean => {
        try {
          return ed25519.verify(sig, msg, pk, { zip215: false })
        } catch {
          return false
        }
      })()
      if (viaNode !== viaNoble || viaNoble !== viaStockNoble) disagreements.push(c.tcId)
      expect(c.result).not.toBe('acceptable')
      return viaNode === (c.result === 'valid') && viaNoble === (c.result === 'valid')
    })
    expect(ran).toBe(file.numberOfTests)
    expect(ran).toBe(151)
    expect(disagreements).toEqual([])
    expect(failed).toEqual([])
  })

  it('x25519: valid cases match; the rest are rejected or differ', () => {
    const file = load('x25519_test.json')
    const counts = { valid: 0, acceptable: 0, acceptableRejected: 0 }
    const { ran, failed } = runAll(file, (c) => {
      const secret = hex(c, 'private')
      const pub = hex(c, 'public')
      const shared = hex(c, 'shared')
      if (c.result === 'valid') {
        counts.valid++
        return equalBytes(dh(secret, pub), shared)
      }
      if (c.result === 'acceptable') {
        counts.acceptable++
        try {
          dh(secret, pub)
        } catch (err) {
          counts.acceptableRejected++
          return isHearthError(err, 'DECRYPT_FAILED')
        }
        return true
      }
      return throwsOrDiffers(() => dh(secret, pub), shared)
    })
    expect(ran).toBe(file.numberOfTests)
    expect(ran).toBe(518)
    expect(counts.valid + counts.acceptable).toBe(518)
    // Every acceptable case whose expected output is all zeros must be among the rejected ones.
    const zeroShared = file.testGroups
      .flatMap((g) => g.tests)
      .filter((c) => /^0+$/.test(c['shared'] as string)).length
    expect(counts.acceptableRejected).toBeGreaterThanOrEqual(zeroShared)
    expect(failed).toEqual([])
  })

  // Small inputs take libsodium once it is ready, larger ones OpenSSL (xchacha20poly1305.ts): the vectors run through
  // the dispatching entry point after libsodium is ready, and through the OpenSSL path alone.
  const xchachaPaths = [
    { path: 'aead.ts (libsodium for small inputs)', seal: sealWithNonce, open: openWithNonce, refused: (err: unknown) => isHearthError(err, 'DECRYPT_FAILED') },
    { path: 'OpenSSL for every size', seal: sealWithOpenSsl, open: openWithOpenSsl, refused: (err: unknown) => err instanceof Error },
  ]
  beforeAll(() => xchachaReady)

  it.each(xchachaPaths)('xchacha20-poly1305 through $path: seal matches valid cases, open rejects invalid ones', ({ seal, open, refused }) => {
    const file = load('xchacha20_poly1305_test.json')
    const { ran, failed } = runAll(file, (c) => {
      const key = hex(c, 'key')
      const nonce = hex(c, 'iv')
      const aad = hex(c, 'aad')
      const msg = hex(c, 'msg')
      const box = concatBytes(hex(c, 'ct'), hex(c, 'tag'))
      if (c.result === 'valid') {
        return equalBytes(seal(key, nonce, msg, aad), box) && equalBytes(open(key, nonce, box, aad), msg)
      }
      try {
        open(key, nonce, box, aad)
        return false
      } catch (err) {
        return refused(err)
      }
    })
    expect(ran).toBe(file.numberOfTests)
    expect(ran).toBe(315)
    expect(failed).toEqual([])
  })

  it('hkdf-sha256 (raw, without the label binding)', () => {
    const file = load('hkdf_sha256_test.json')
    const { ran, failed } = runAll(file, (c) => {
      const run = (): Uint8Array => rawHkdf(rawSha256, hex(c, 'ikm'), hex(c, 'salt'), hex(c, 'info'), num(c, 'size'))
      const okm = hex(c, 'okm')
      if (c.result === 'valid') return equalBytes(run(), okm)
      return throwsOrDiffers(run, okm)
    })
    expect(ran).toBe(file.numberOfTests)
    expect(ran).toBe(86)
    expect(failed).toEqual([])
  })

  it('hmac-sha256, including truncated tags', () => {
    const file = load('hmac_sha256_test.json')
    const { ran, failed } = runAll(file, (c, g) => {
      const tagBytes = num(g, 'tagSize') / 8
      const computed = hmacSha256(hex(c, 'key'), hex(c, 'msg')).subarray(0, tagBytes)
      const matches = equalBytes(computed, hex(c, 'tag'))
      return c.result === 'valid' ? matches : !matches
    })
    expect(ran).toBe(file.numberOfTests)
    expect(ran).toBe(174)
    expect(failed).toEqual([])
  })
})
