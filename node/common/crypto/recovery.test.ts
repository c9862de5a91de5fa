import { entropyToMnemonic } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { describe, expect, it } from 'vitest'
import { accountSeedFromEntropy, entropyFromPhrase, generateRecoveryPhrase } from './recovery.js'

const invalid = expect.objectContaining({ code: 'INVALID_RECOVERY_PHRASE' })

describe('recovery phrase', () => {
  it('generates 24 words that round trip to the same entropy and account seed', () => {
    const { phrase, entropy } = generateRecoveryPhrase()
    expect(entropy.length).toBe(32)
    expect(phrase.split(' ')).toHaveLength(24)
    expect(entropyFromPhrase(phrase)).toEqual(entropy)
    expect(accountSeedFromEntropy(entropyFromPhrase(phrase))).toEqual(accountSeedFromEntropy(entropy))
    expect(accountSeedFromEntropy(entropy)).toHaveLength(32)
  })

  it('tolerates case and messy whitespace', () => {
    const { phrase, entropy } = generateRecoveryPhrase()
    const messy = `  ${phrase.toUpperCase().split(' ').join(' \n\t ')}  `
    expect(entropyFromPhrase(messy)).toEqual(entropy)
  })

  it('matches the BIP-39 all-zero vector', () => {
    const phrase = `${'abandon '.repeat(23)}art`
    expect(entropyFromPhrase(phrase)).toEqual(new Uint8Array(32))
  })

  it('rejects a bad checksum', () => {
    const words = generateRecoveryPhrase().phrase.split(' ')
    // The low 8 bits of the last word are pure checksum, so flipping bit 0 of its index always breaks it.
    words[23] = wordlist[wordlist.indexOf(words[23]!) ^ 1]!
    expect(() => entropyFromPhrase(words.join(' '))).toThrow(invalid)
    expect(() => entropyFromPhrase('abandon '.repeat(24).trim())).toThrow(invalid)
  })

  it('names the first unknown word without putting it in the public message', () => {
    const words = entropyToMnemonic(new Uint8Array(32).fill(9), wordlist).split(' ')
    words[3] = 'hearthx'
    words[7] = 'zzzz'
    try {
      entropyFromPhrase(words.join(' '))
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_RECOVERY_PHRASE' })
      expect((err as Error).message).toContain('hearthx')
      expect((err as Error).message).not.toContain('zzzz')
      expect((err as { publicMessage: string }).publicMessage).not.toContain('hearthx')
    }
  })

  it('rejects wrong word counts, including valid shorter BIP-39 phrases', () => {
    expect(() => entropyFromPhrase(entropyToMnemonic(new Uint8Array(16), wordlist))).toThrow(invalid)
    expect(() => entropyFromPhrase('')).toThrow(invalid)
  })

  it('requires 32 bytes of entropy for the account seed', () => {
    expect(() => accountSeedFromEntropy(new Uint8Array(16))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
  })
})
