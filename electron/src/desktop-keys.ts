/**
 * Which key provider wraps the identity on the desktop: the OS keychain (safeStorage, via main) where it is real, a
 * passphrase otherwise, never plaintext. The app host calls `keyProvider(passphrase)` with a passphrase only when it
 * asked the person for one (`needsPassphrase`), so:
 *  - creating: with a passphrase → passphrase; without → keychain, or a clear refusal when there is none;
 *  - unlocking: the blob on disk says how it was wrapped, and that provider is used, so an identity made with a
 *    passphrase still opens after a keyring appears, and one made with the keychain says why it cannot open when the
 *    keyring is gone (rather than "wrong passphrase").
 */
import type { KeyProvider } from '../../node/common/crypto/keystore.js'
import { HearthError } from '../../node/common/errors.js'
import { blobKind } from './safe-storage.js'

export interface DesktopKeyOptions {
  /** The safeStorage provider, or null where safeStorage is not usable (Linux without a keyring). */
  keychain: KeyProvider | null
  passphrase: (passphrase: string) => KeyProvider
}

export function desktopKeyProvider(passphrase: string | undefined, options: DesktopKeyOptions): KeyProvider {
  const withPassphrase = passphrase !== undefined && passphrase.length > 0 ? options.passphrase(passphrase) : null
  const forWrapping = withPassphrase ?? options.keychain
  return {
    kind: forWrapping?.kind ?? 'none',
    wrap(plaintext) {
      if (forWrapping === null) {
        return Promise.reject(new HearthError('INVALID_INPUT', 'a passphrase is needed: this system has no usable keychain'))
      }
      return forWrapping.wrap(plaintext)
    },
    unwrap(blob) {
      switch (blobKind(blob)) {
        case 'passphrase':
          if (withPassphrase === null) return Promise.reject(new HearthError('WRONG_PASSPHRASE', 'this identity is protected by a passphrase'))
          return withPassphrase.unwrap(blob)
        case 'safeStorage':
          if (options.keychain === null) {
            return Promise.reject(
              new HearthError(
                'DECRYPT_FAILED',
                'this identity is protected by the system keychain, which is not available now (is the keyring running?)',
              ),
            )
          }
          return options.keychain.unwrap(blob)
        default:
          return Promise.reject(new HearthError('KEYSTORE_CORRUPT', 'the identity file is not a keystore'))
      }
    },
  }
}

/**
 * Whether onboarding must ask for a passphrase: where there is no usable keychain, or where the identity already on
 * disk was wrapped with one.
 */
export function needsPassphrase(identityBlob: Uint8Array | null, keychainUsable: boolean): boolean {
  if (identityBlob !== null) return blobKind(identityBlob) === 'passphrase' || !keychainUsable
  return !keychainUsable
}
