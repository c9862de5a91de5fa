import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { HearthError } from '../errors.js'
import { hkdf } from './kdf.js'
import { Labels } from './labels.js'
import { randomBytes } from './random.js'

export const RECOVERY_ENTROPY_LENGTH = 32
export const RECOVERY_WORD_COUNT = 24

const words = new Set(wordlist)

export function generateRecoveryPhrase(): { phrase: string; entropy: Uint8Array } {
  const entropy = randomBytes(RECOVERY_ENTROPY_LENGTH)
  return { phrase: entropyToMnemonic(entropy, wordlist), entropy }
}

/** The 24 words for these 32 bytes: how a device that kept the entropy shows its phrase again. */
export function phraseFromEntropy(entropy: Uint8Array): string {
  if (entropy.length !== RECOVERY_ENTROPY_LENGTH) {
    throw new HearthError('INVALID_INPUT', 'recovery entropy must be 32 bytes')
  }
  return entropyToMnemonic(entropy, wordlist)
}

/**
 * Accepts what a person types back: any whitespace, any case. Only 24-word phrases are Hearth phrases; a shorter
 * valid BIP-39 phrase (from a wallet, say) would quietly restore a different, weaker account.
 */
export function entropyFromPhrase(phrase: string): Uint8Array {
  const typed = phrase.normalize('NFKD').toLowerCase().trim().split(/\s+/).filter((w) => w.length > 0)
  const unknown = typed.find((w) => !words.has(w))
  if (unknown !== undefined) {
    throw invalid(`"${unknown}" is not a recovery phrase word`)
  }
  if (typed.length !== RECOVERY_WORD_COUNT) {
    throw invalid(`a recovery phrase has ${RECOVERY_WORD_COUNT} words, this one has ${typed.length}`)
  }
  try {
    return mnemonicToEntropy(typed.join(' '), wordlist)
  } catch (err) {
    throw invalid('the recovery phrase checksum does not match; a word is wrong or out of order', err)
  }
}

export function accountSeedFromEntropy(entropy: Uint8Array): Uint8Array {
  if (entropy.length !== RECOVERY_ENTROPY_LENGTH) {
    throw new HearthError('INVALID_INPUT', 'recovery entropy must be 32 bytes')
  }
  return hkdf(Labels.accountFromRecovery, entropy)
}

function invalid(message: string, cause?: unknown): HearthError {
  // The phrase is a secret: keep any part of it out of what could reach a peer.
  return new HearthError('INVALID_RECOVERY_PHRASE', message, {
    publicMessage: 'invalid recovery phrase',
    ...(cause === undefined ? {} : { cause }),
  })
}
