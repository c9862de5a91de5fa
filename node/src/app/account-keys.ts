/**
 * The account area of Settings, on the app host's side: showing the recovery phrase again and changing the passphrase
 * that wraps the identity file. Both live here rather than in the core because only the host knows how the keys are
 * wrapped (a passphrase in the browser mode and headless, the OS keychain on the desktop).
 *
 * The identity file is the only thing wrapped with the KeyProvider (the database is sealed with `dbKey`, which lives
 * inside it), so re-wrapping that one file re-keys everything at rest. The open core keeps a provider for renames
 * (which write the identity file again); it is handed a `SwitchableKeyProvider`, switched to the new passphrase before
 * the file is re-wrapped, so a later rename cannot write the file back under the old one.
 */
import type { KeyProvider } from '../../common/crypto/keystore.js'
import { HearthError, isHearthError } from '../../common/errors.js'
import type { AccountStatus, RecoveryPhraseView } from '../api/types.js'
import { loadIdentity, recoveryPhraseOf, rewrapIdentity, type Identity } from '../identity/identity.js'

export interface SwitchableKeyProvider extends KeyProvider {
  /** Wraps with `next` from now on; unwraps with it too (the file on disk is re-wrapped right after). Returns the one before. */
  use(next: KeyProvider): KeyProvider
}

export function switchableKeyProvider(initial: KeyProvider): SwitchableKeyProvider {
  let current = initial
  return {
    get kind() {
      return current.kind
    },
    wrap: (plaintext) => current.wrap(plaintext),
    unwrap: (blob) => current.unwrap(blob),
    use(next) {
      const previous = current
      current = next
      return previous
    },
  }
}

/** Wrong passphrases allowed before each further try must wait; the wait doubles up to the cap. */
export const FREE_WRONG_PASSPHRASES = 3
const FIRST_WAIT_MS = 5_000
const MAX_WAIT_MS = 60_000

/**
 * A light brake on guessing the passphrase through the API (scrypt already costs each guess ~0.5 s): three wrong
 * tries are free, then each needs a wait of 5 s, 10 s, 20 s… up to a minute. A right passphrase resets it.
 * In memory only: restarting the app resets it, which is fine for a brake that only makes guessing by hand tedious.
 */
export class PassphraseAttempts {
  private wrong = 0
  private notBefore = 0

  constructor(private readonly now: () => number = Date.now) {}

  /** RATE_LIMITED while a wait is running. */
  check(): void {
    const wait = this.notBefore - this.now()
    if (wait > 0) {
      throw new HearthError('RATE_LIMITED', `Too many wrong passphrases. Try again in ${Math.ceil(wait / 1000)} seconds.`)
    }
  }

  failed(): void {
    this.wrong++
    if (this.wrong < FREE_WRONG_PASSPHRASES) return
    const wait = Math.min(FIRST_WAIT_MS * 2 ** (this.wrong - FREE_WRONG_PASSPHRASES), MAX_WAIT_MS)
    this.notBefore = this.now() + wait
  }

  succeeded(): void {
    this.wrong = 0
    this.notBefore = 0
  }
}

export interface AccountKeysOptions {
  dataDir: string
  /** Whether the identity is wrapped with a passphrase (else the OS keychain wraps it). */
  needsPassphrase: boolean
  /** The provider for what the person typed (the app host's `keyProvider`). */
  providerFor: (passphrase: string | undefined) => KeyProvider
  /** The provider the open core writes the identity file with. */
  live: SwitchableKeyProvider
  /** The identity the core opened with (whether a phrase is kept does not change while it runs). */
  identity: Identity
  attempts: PassphraseAttempts
}

export interface AccountKeys {
  status(): AccountStatus
  recoveryPhrase(passphrase: string | undefined): Promise<RecoveryPhraseView>
  changePassphrase(current: string, next: string): Promise<void>
}

export function createAccountKeys(options: AccountKeysOptions): AccountKeys {
  const { dataDir, attempts } = options

  /** Runs `fn` with the provider for `passphrase`; a wrong one is counted and said plainly. */
  async function withPassphrase<T>(passphrase: string, fn: (provider: KeyProvider) => Promise<T>, whatStays: string): Promise<T> {
    attempts.check()
    try {
      const result = await fn(options.providerFor(passphrase))
      attempts.succeeded()
      return result
    } catch (err) {
      if (!isHearthError(err, 'WRONG_PASSPHRASE')) throw err
      attempts.failed()
      throw new HearthError('WRONG_PASSPHRASE', `That is not your current passphrase. ${whatStays}`, { cause: err })
    }
  }

  return {
    status: () => ({
      recoveryPhraseKept: options.identity.entropy !== undefined,
      protection: options.needsPassphrase ? 'passphrase' : 'keychain',
    }),

    async recoveryPhrase(passphrase) {
      if (options.identity.entropy === undefined) return { phrase: null }
      let identity: Identity
      if (options.needsPassphrase) {
        if (passphrase === undefined || passphrase.length === 0) {
          throw new HearthError('INVALID_INPUT', 'Type your passphrase to see the recovery phrase.')
        }
        identity = await withPassphrase(passphrase, (provider) => loadIdentity(dataDir, provider), 'The recovery phrase was not shown.')
      } else {
        // The keychain already vouched for this session; the UI asked the person to confirm instead.
        identity = await loadIdentity(dataDir, options.live)
      }
      return { phrase: recoveryPhraseOf(identity) ?? null }
    },

    async changePassphrase(current, next) {
      if (!options.needsPassphrase) {
        throw new HearthError('INVALID_INPUT', 'This device keeps its keys in the system keychain: there is no passphrase to change.')
      }
      if (next === current) throw new HearthError('INVALID_INPUT', 'The new passphrase is the same as the current one.')
      const to = options.providerFor(next)
      await withPassphrase(
        current,
        async (from) => {
          // The old passphrase opens the file first (a wrong one changes nothing); then the core's provider switches,
          // so a rename from now on wraps with the new passphrase; then the file is written.
          let previous: KeyProvider | undefined
          try {
            await rewrapIdentity(dataDir, from, to, () => {
              previous = options.live.use(to)
            })
          } catch (err) {
            if (previous !== undefined) options.live.use(previous)
            throw err
          }
          // A rename that started before the switch may have landed after it under the old passphrase: wrap again.
          if (!(await opensWith(dataDir, to))) await rewrapIdentity(dataDir, from, to)
        },
        'Nothing was changed.',
      )
    },
  }
}

async function opensWith(dataDir: string, provider: KeyProvider): Promise<boolean> {
  try {
    await loadIdentity(dataDir, provider)
    return true
  } catch (err) {
    if (isHearthError(err, 'WRONG_PASSPHRASE')) return false
    throw err
  }
}
