import { scrypt } from 'node:crypto'
import { HearthError } from '../errors.js'
import { concatBytes, equalBytes, utf8 } from '../util/bytes.js'
import { AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, open, seal } from './aead.js'
import { hkdf, sha256 } from './kdf.js'
import { Labels } from './labels.js'
import { randomBytes } from './random.js'

/**
 * Wraps secrets at rest. The Electron shell implements this with safeStorage; headless nodes use a passphrase.
 * There is deliberately no plaintext provider.
 */
export interface KeyProvider {
  readonly kind: string
  wrap(plaintext: Uint8Array): Promise<Uint8Array>
  unwrap(blob: Uint8Array): Promise<Uint8Array>
}

export interface ScryptCost {
  N: number
  r: number
  p: number
}

export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 }

/*
 * Blob layout (all integers unsigned bytes):
 *   'HKS1' | version 1 | log2 N | r | p | salt 16 | check 16 | nonce 24 || ciphertext || tag 16 | checksum 16
 * `check` is derived from the passphrase key, so a wrong passphrase is told apart from damage to the ciphertext.
 * `checksum` is an unkeyed SHA-256 prefix over everything before it, so accidental damage to the header (salt,
 * cost) reads as corruption rather than as a wrong passphrase; it is not a security check, the AEAD tag is.
 */
const MAGIC = utf8('HKS1')
const VERSION = 1
const SALT_LENGTH = 16
const CHECK_LENGTH = 16
const CHECKSUM_LENGTH = 16
const HEADER_LENGTH = MAGIC.length + 1 + 3 + SALT_LENGTH + CHECK_LENGTH
const MIN_BLOB_LENGTH = HEADER_LENGTH + AEAD_NONCE_LENGTH + AEAD_TAG_LENGTH + CHECKSUM_LENGTH

// Cost parameters come back out of a file; bounding them stops a damaged or hostile file from demanding gigabytes.
const MAX_SCRYPT_MEMORY = 2 ** 30
const MAX_P = 16

const AD = utf8(Labels.keystore)
const KEY_INFO = utf8('aead-key')
const CHECK_INFO = utf8('passphrase-check')

export function passphraseKeyProvider(passphrase: string, opts: { cost?: ScryptCost } = {}): KeyProvider {
  if (passphrase.length === 0) throw new HearthError('INVALID_INPUT', 'passphrase must not be empty')
  const cost = opts.cost ?? DEFAULT_SCRYPT_COST
  const costProblem = checkCost(cost)
  if (costProblem !== undefined) throw new HearthError('INVALID_INPUT', costProblem)
  // NFC so the same passphrase typed through different input methods gives the same bytes.
  const secret = utf8(passphrase.normalize('NFC'))

  return {
    kind: 'passphrase',

    async wrap(plaintext) {
      const salt = randomBytes(SALT_LENGTH)
      const { key, check } = await deriveKeys(secret, salt, cost)
      const body = concatBytes(
        MAGIC,
        new Uint8Array([VERSION, Math.log2(cost.N), cost.r, cost.p]),
        salt,
        check,
        seal(key, plaintext, AD),
      )
      return concatBytes(body, checksum(body))
    },

    async unwrap(blob) {
      const parsed = parse(blob)
      const { key, check } = await deriveKeys(secret, parsed.salt, parsed.cost)
      if (!equalBytes(check, parsed.check)) throw new HearthError('WRONG_PASSPHRASE', 'wrong passphrase')
      try {
        return open(key, parsed.box, AD)
      } catch (err) {
        // The passphrase was right and the checksum matched, so the ciphertext was altered on purpose or re-summed.
        throw new HearthError('KEYSTORE_CORRUPT', 'keystore failed authentication', { cause: err })
      }
    },
  }
}

interface ParsedBlob {
  cost: ScryptCost
  salt: Uint8Array
  check: Uint8Array
  box: Uint8Array
}

function parse(blob: Uint8Array): ParsedBlob {
  if (blob.length < MAGIC.length + 1 || !equalBytes(blob.subarray(0, MAGIC.length), MAGIC)) {
    throw corrupt('not a keystore blob')
  }
  const version = blob[MAGIC.length]!
  if (version !== VERSION) throw new HearthError('UNSUPPORTED_VERSION', `unsupported keystore version ${version}`)
  if (blob.length < MIN_BLOB_LENGTH) throw corrupt('keystore blob truncated')
  const body = blob.subarray(0, blob.length - CHECKSUM_LENGTH)
  if (!equalBytes(checksum(body), blob.subarray(blob.length - CHECKSUM_LENGTH))) {
    throw corrupt('keystore checksum mismatch')
  }
  let offset = MAGIC.length + 1
  const logN = blob[offset++]!
  const r = blob[offset++]!
  const p = blob[offset++]!
  const cost = { N: 2 ** logN, r, p }
  const costProblem = checkCost(cost)
  if (costProblem !== undefined) throw corrupt(costProblem)
  const salt = body.subarray(offset, offset + SALT_LENGTH)
  offset += SALT_LENGTH
  const check = body.subarray(offset, offset + CHECK_LENGTH)
  offset += CHECK_LENGTH
  return { cost, salt, check, box: body.subarray(offset) }
}

function checkCost({ N, r, p }: ScryptCost): string | undefined {
  const ok =
    Number.isInteger(Math.log2(N)) &&
    N >= 2 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= 255 &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_P &&
    128 * N * r <= MAX_SCRYPT_MEMORY
  return ok ? undefined : `unsupported scrypt cost N=${N} r=${r} p=${p}`
}

async function deriveKeys(
  secret: Uint8Array,
  salt: Uint8Array,
  { N, r, p }: ScryptCost,
): Promise<{ key: Uint8Array; check: Uint8Array }> {
  const master = await new Promise<Uint8Array>((resolve, reject) => {
    // Node's default maxmem (32 MiB) is below the default cost; allow what the parameters need plus slack.
    const maxmem = 128 * r * (N + p + 2) + 32 * 2 ** 20
    scrypt(secret, salt, 32, { N, r, p, maxmem }, (err, out) => {
      if (err !== null) reject(new HearthError('INTERNAL', 'scrypt failed', { cause: err }))
      else resolve(new Uint8Array(out))
    })
  })
  return {
    key: hkdf(Labels.keystore, master, { info: KEY_INFO }),
    check: hkdf(Labels.keystore, master, { info: CHECK_INFO, length: CHECK_LENGTH }),
  }
}

function checksum(body: Uint8Array): Uint8Array {
  return sha256(body).subarray(0, CHECKSUM_LENGTH)
}

function corrupt(message: string): HearthError {
  return new HearthError('KEYSTORE_CORRUPT', message)
}
