/**
 * The relay's libp2p identity: an Ed25519 key in `<dataDir>/relay.key` (libp2p protobuf encoding), created on first
 * start with mode 0600. The PeerId is what operators hand out, so it must survive restarts and upgrades; back the file
 * up with the data directory. A key file others can read is reported, not silently accepted.
 */
import { stat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { HearthError } from '../../../node/common/errors.js'
import { atomicWriteFile } from '../../../node/common/util/atomic-file.js'
import type { PrivateKey } from '@libp2p/interface'

export const KEY_FILE = 'relay.key'

export interface Identity {
  privateKey: PrivateKey
  created: boolean
  /** Set when the key file is readable by group or others. */
  warning?: string
}

export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  const path = join(dataDir, KEY_FILE)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new HearthError('INTERNAL', `cannot read the relay key ${path}: ${(err as Error).message}`, { cause: err })
    }
    const privateKey = await generateKeyPair('Ed25519')
    await atomicWriteFile(path, privateKeyToProtobuf(privateKey), { mode: 0o600 })
    return { privateKey, created: true }
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new HearthError('KEYSTORE_CORRUPT', `the relay key ${path} is not a libp2p private key`, { cause: err })
  }
  const mode = (await stat(path)).mode & 0o777
  return mode & 0o077
    ? { privateKey, created: false, warning: `relay key ${path} has mode ${mode.toString(8)}; run chmod 600 on it` }
    : { privateKey, created: false }
}
