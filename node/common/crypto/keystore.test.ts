import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { utf8 } from '../util/bytes.js'
import { atomicWriteFile } from '../util/atomic-file.js'
import { passphraseKeyProvider, type KeyProvider } from './keystore.js'

const cost = { N: 2 ** 10, r: 8, p: 1 }
const code = (c: string) => expect.objectContaining({ code: c })

// Byte offsets of the blob regions, as documented in keystore.ts.
const regions = {
  magic: [0, 4],
  version: [4, 5],
  cost: [5, 8],
  salt: [8, 24],
  check: [24, 40],
  nonce: [40, 64],
  ciphertextAndTag: [64, -16],
  checksum: [-16, 0],
} as const

describe('passphrase keystore', () => {
  const provider = passphraseKeyProvider('correct horse battery staple', { cost })
  const secret = utf8('account seed: 32 bytes of secret')
  let blob: Uint8Array

  beforeAll(async () => {
    blob = await provider.wrap(secret)
  })

  it('round trips, with a fresh salt and nonce per wrap', async () => {
    expect(provider.kind).toBe('passphrase')
    expect(await provider.unwrap(blob)).toEqual(secret)
    const again = await provider.wrap(secret)
    expect(again).not.toEqual(blob)
    expect(await provider.unwrap(again)).toEqual(secret)
    expect(Buffer.from(blob.subarray(0, 4)).toString()).toBe('HKS1')
    expect(await provider.unwrap(await provider.wrap(new Uint8Array(0)))).toEqual(new Uint8Array(0))
  })

  it('another provider with the same passphrase opens it (cost is read from the blob)', async () => {
    expect(await passphraseKeyProvider('correct horse battery staple').unwrap(blob)).toEqual(secret)
  })

  it('says WRONG_PASSPHRASE for a wrong passphrase', async () => {
    await expect(passphraseKeyProvider('Correct horse battery staple', { cost }).unwrap(blob)).rejects.toThrow(
      code('WRONG_PASSPHRASE'),
    )
  })

  it('treats the same passphrase in different Unicode normal forms as equal', async () => {
    const composed = passphraseKeyProvider('caf\u00e9', { cost })
    const decomposed = passphraseKeyProvider('cafe\u0301', { cost })
    expect(await decomposed.unwrap(await composed.wrap(secret))).toEqual(secret)
  })

  it('rejects an empty passphrase and silly costs', () => {
    expect(() => passphraseKeyProvider('')).toThrow(code('INVALID_INPUT'))
    expect(() => passphraseKeyProvider('x', { cost: { N: 1000, r: 8, p: 1 } })).toThrow(code('INVALID_INPUT'))
    expect(() => passphraseKeyProvider('x', { cost: { N: 2 ** 24, r: 8, p: 1 } })).toThrow(code('INVALID_INPUT'))
  })

  for (const [name, [start, end]] of Object.entries(regions)) {
    it(`reports damage to the ${name} as corruption, not a wrong passphrase`, async () => {
      const from = start < 0 ? blob.length + start : start
      const to = end <= 0 ? blob.length + end : end
      for (let i = from; i < to; i++) {
        const bad = Uint8Array.from(blob)
        bad[i]! ^= 0x01
        const expected = name === 'version' ? 'UNSUPPORTED_VERSION' : 'KEYSTORE_CORRUPT'
        await expect(provider.unwrap(bad), `${name} byte ${i}`).rejects.toThrow(code(expected))
      }
    })
  }

  it('reports truncation and garbage as corruption', async () => {
    for (const len of [0, 3, 5, 20, 95, blob.length - 1]) {
      await expect(provider.unwrap(blob.subarray(0, len)), `length ${len}`).rejects.toThrow(code('KEYSTORE_CORRUPT'))
    }
    await expect(provider.unwrap(new Uint8Array(200).fill(0x41))).rejects.toThrow(code('KEYSTORE_CORRUPT'))
  })

  it('reports a re-checksummed ciphertext forgery as corruption', async () => {
    const { sha256 } = await import('./kdf.js')
    const bad = Uint8Array.from(blob)
    bad[70]! ^= 0x01
    bad.set(sha256(bad.subarray(0, bad.length - 16)).subarray(0, 16), bad.length - 16)
    await expect(provider.unwrap(bad)).rejects.toThrow(code('KEYSTORE_CORRUPT'))
  })

  it('refuses a blob that asks for an absurd scrypt cost', async () => {
    const { sha256 } = await import('./kdf.js')
    const bad = Uint8Array.from(blob)
    bad[5] = 40
    bad.set(sha256(bad.subarray(0, bad.length - 16)).subarray(0, 16), bad.length - 16)
    await expect(provider.unwrap(bad)).rejects.toThrow(code('KEYSTORE_CORRUPT'))
  })
})

describe('atomicWriteFile', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-atomic-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes, replaces, leaves no temp files and makes the file owner-only', async () => {
    const provider: KeyProvider = passphraseKeyProvider('pw', { cost })
    const path = join(dir, 'keystore.bin')
    await atomicWriteFile(path, await provider.wrap(utf8('one')))
    await atomicWriteFile(path, await provider.wrap(utf8('two')))
    expect(await provider.unwrap(new Uint8Array(await readFile(path)))).toEqual(utf8('two'))
    expect(await readdir(dir)).toEqual(['keystore.bin'])
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('fails cleanly when the directory does not exist', async () => {
    await expect(atomicWriteFile(join(dir, 'missing', 'f'), utf8('x'))).rejects.toThrow()
  })
})
