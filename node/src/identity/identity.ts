import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { z } from 'zod'
import { generateSigningKeyPair, signingKeyPairFromSeed, type SigningKeyPair } from '../../common/crypto/ed25519.js'
import type { KeyProvider } from '../../common/crypto/keystore.js'
import { randomBytes } from '../../common/crypto/random.js'
import {
  accountSeedFromEntropy,
  entropyFromPhrase,
  generateRecoveryPhrase,
  phraseFromEntropy,
  RECOVERY_ENTROPY_LENGTH,
} from '../../common/crypto/recovery.js'
import { dhKeyPairFromSecret, generateDhKeyPair, type DhKeyPair } from '../../common/crypto/x25519.js'
import { HearthError } from '../../common/errors.js'
import { atomicWriteFile } from '../../common/util/atomic-file.js'
import { equalBytes } from '../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { bytes, parseWire, uint } from '../../common/wire/schema.js'
import { accountIdOf, deviceIdOf, type AccountId, type DeviceId } from '../ids.js'
import { displayNameProblem, issueDeviceCert, type DeviceCert } from './device-cert.js'

/**
 * Who this device is. Four separate keys (docs/STORAGE.md, "The identity file"): the account key is the person and is recoverable
 * from the recovery phrase; the device signing and X25519 keys are this install's; the libp2p key is only the network
 * identity, so what the network sees is not the person. `dbKey` encrypts content and secrets stored in LevelDB.
 */
export interface Identity {
  account: AccountId
  accountKey: SigningKeyPair
  deviceId: DeviceId
  deviceKey: SigningKeyPair
  dhKey: DhKeyPair
  peerKey: PrivateKey
  peerId: string
  dbKey: Uint8Array
  displayName: string
  cert: DeviceCert
  /**
   * The 32 bytes of recovery entropy the account key comes from, kept so the recovery phrase can be shown again.
   * Absent on devices set up before the phrase was kept: those cannot show it (the account key is a one-way HKDF of it).
   */
  entropy?: Uint8Array
}

export const IDENTITY_FILE = 'identity.hks'

export function validateDisplayName(name: string): string {
  const trimmed = name.trim()
  const problem = displayNameProblem(trimmed)
  if (problem !== undefined) throw new HearthError('INVALID_INPUT', problem)
  return trimmed
}

async function assemble(parts: {
  accountSeed: Uint8Array
  deviceSeed: Uint8Array
  dhSecret: Uint8Array
  peerKey: PrivateKey
  dbKey: Uint8Array
  displayName: string
  createdAt: number
  entropy?: Uint8Array | undefined
}): Promise<Identity> {
  const accountKey = signingKeyPairFromSeed(parts.accountSeed)
  const deviceKey = signingKeyPairFromSeed(parts.deviceSeed)
  const dhKey = dhKeyPairFromSecret(parts.dhSecret)
  const peerId = peerIdFromPrivateKey(parts.peerKey).toString()
  const cert = certificateFor({ accountKey, deviceKey, dhKey, peerId }, parts.displayName, parts.createdAt)
  return {
    account: accountIdOf(accountKey.publicKey),
    accountKey,
    deviceId: deviceIdOf(deviceKey.publicKey),
    deviceKey,
    dhKey,
    peerKey: parts.peerKey,
    peerId,
    dbKey: parts.dbKey,
    displayName: parts.displayName,
    cert,
    ...(parts.entropy === undefined ? {} : { entropy: parts.entropy }),
  }
}

/** The account key vouches for this device's keys, PeerId and name. */
function certificateFor(
  keys: Pick<Identity, 'accountKey' | 'deviceKey' | 'dhKey' | 'peerId'>,
  displayName: string,
  createdAt: number,
): DeviceCert {
  return issueDeviceCert({
    accountSeed: keys.accountKey.seed,
    accountPublic: keys.accountKey.publicKey,
    devicePublic: keys.deviceKey.publicKey,
    dhPublic: keys.dhKey.publicKey,
    peerId: keys.peerId,
    displayName,
    createdAt,
  })
}

/**
 * A new device of an existing account: fresh device, X25519, network and database keys under the account key from
 * `accountSeed`. With `entropy` (the recovery phrase's bytes) the device keeps it so the phrase can be shown again; it
 * must be the entropy that seed comes from, or the phrase shown later would restore a different account.
 */
export async function identityForNewDevice(
  input: { accountSeed: Uint8Array; entropy?: Uint8Array; peerKey?: PrivateKey },
  displayName: string,
  now: number,
): Promise<Identity> {
  if (input.entropy !== undefined) checkEntropyMatches(input.entropy, input.accountSeed)
  return assemble({
    accountSeed: input.accountSeed,
    deviceSeed: generateSigningKeyPair().seed,
    dhSecret: generateDhKeyPair().secretKey,
    // A device being linked is already on the network under its final key (the pairing runs before the account is known).
    peerKey: input.peerKey ?? (await generateKeyPair('Ed25519')),
    dbKey: randomBytes(32),
    displayName: validateDisplayName(displayName),
    createdAt: now,
    entropy: input.entropy,
  })
}

function checkEntropyMatches(entropy: Uint8Array, accountSeed: Uint8Array): void {
  if (!equalBytes(accountSeedFromEntropy(entropy), accountSeed)) {
    throw new HearthError('INVALID_INPUT', 'the recovery entropy does not belong to this account')
  }
}

/** A new account and device. The recovery phrase is returned once; its entropy is kept in the identity file. */
export async function createIdentity(displayName: string, now: number): Promise<{ identity: Identity; recoveryPhrase: string }> {
  const { phrase, entropy } = generateRecoveryPhrase()
  return { identity: await identityForNewDevice({ accountSeed: accountSeedFromEntropy(entropy), entropy }, displayName, now), recoveryPhrase: phrase }
}

/** The same account on a fresh data directory: a new device, network key and database key. */
export async function restoreIdentity(displayName: string, phrase: string, now: number): Promise<Identity> {
  const entropy = entropyFromPhrase(phrase)
  return identityForNewDevice({ accountSeed: accountSeedFromEntropy(entropy), entropy }, displayName, now)
}

/** The recovery phrase of this identity's account, or undefined where the device was set up before it was kept. */
export function recoveryPhraseOf(identity: Identity): string | undefined {
  return identity.entropy === undefined ? undefined : phraseFromEntropy(identity.entropy)
}

/**
 * The same identity under a new display name. The device certificate is issued again (same keys, same date) so
 * conversations created or joined from now on carry the new name; existing ones learn it from a `profile` operation.
 */
export function withDisplayName(identity: Identity, name: string): Identity {
  const displayName = validateDisplayName(name)
  return { ...identity, displayName, cert: certificateFor(identity, displayName, identity.cert.createdAt) }
}

const storedSchema = z.object({
  v: z.literal(1),
  a: bytes(32),
  d: bytes(32),
  x: bytes(32),
  p: z.instanceof(Uint8Array),
  k: bytes(32),
  n: z.string(),
  t: uint,
  // Added within version 1: files written before the phrase was kept have no `e` and load as before.
  e: bytes(RECOVERY_ENTROPY_LENGTH).optional(),
})

export function identityExists(dataDir: string): boolean {
  return existsSync(join(dataDir, IDENTITY_FILE))
}

export async function saveIdentity(dataDir: string, identity: Identity, provider: KeyProvider): Promise<void> {
  const plain = encodeCbor({
    v: 1,
    a: identity.accountKey.seed,
    d: identity.deviceKey.seed,
    x: identity.dhKey.secretKey,
    p: privateKeyToProtobuf(identity.peerKey),
    k: identity.dbKey,
    n: identity.displayName,
    t: identity.cert.createdAt,
    ...(identity.entropy === undefined ? {} : { e: identity.entropy }),
  })
  await atomicWriteFile(join(dataDir, IDENTITY_FILE), await provider.wrap(plain))
}

/**
 * Wraps the identity file again under another provider (a new passphrase), atomically: after a crash the file opens
 * with the old passphrase or the new one. The old provider must open it first, so a wrong current passphrase
 * (WRONG_PASSPHRASE) changes nothing. The plaintext is carried over byte for byte. `opened` runs once it has opened.
 */
export async function rewrapIdentity(dataDir: string, from: KeyProvider, to: KeyProvider, opened?: () => void): Promise<void> {
  const path = join(dataDir, IDENTITY_FILE)
  const plain = await from.unwrap(await readIdentityBlob(dataDir))
  opened?.()
  await atomicWriteFile(path, await to.wrap(plain))
}

async function readIdentityBlob(dataDir: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(join(dataDir, IDENTITY_FILE)))
  } catch (err) {
    throw new HearthError('NO_IDENTITY', `no identity in ${dataDir}`, { cause: err })
  }
}

export async function loadIdentity(dataDir: string, provider: KeyProvider): Promise<Identity> {
  const plain = await provider.unwrap(await readIdentityBlob(dataDir))
  const stored = parseWire(storedSchema, decodeCbor(plain, 4096, 'identity'), 'identity')
  if (stored.e !== undefined && !equalBytes(accountSeedFromEntropy(stored.e), stored.a)) {
    throw new HearthError('MALFORMED', 'identity file: the recovery entropy does not match the account key')
  }
  return assemble({
    accountSeed: stored.a,
    deviceSeed: stored.d,
    dhSecret: stored.x,
    peerKey: privateKeyFromProtobuf(stored.p),
    dbKey: stored.k,
    displayName: stored.n,
    createdAt: stored.t,
    entropy: stored.e,
  })
}
