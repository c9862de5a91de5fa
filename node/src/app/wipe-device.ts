/**
 * Wipes this device after another device of the account revoked it: the identity file is overwritten with random
 * bytes, flushed, then unlinked; the database, the blobs and the address books go. The LevelDB values are sealed
 * under a key only the identity file held, so once it is gone what is left on the disk (a journal, a copy an SSD kept
 * behind) cannot be read: deleting the file is the crypto-shred, the rest is tidying. docs/SECURITY.md.
 */
import { randomBytes } from 'node:crypto'
import { open, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { IDENTITY_FILE } from '../identity/identity.js'

/** What a data dir holds for an identity, besides the identity file itself (core/open-core.ts, cli/state-files.ts). */
const DEVICE_DATA = ['db', 'blobs', 'peers.json', 'listen.json']

export async function wipeDevice(dataDir: string): Promise<void> {
  const identity = join(dataDir, IDENTITY_FILE)
  try {
    const { size } = await stat(identity)
    const file = await open(identity, 'r+')
    try {
      await file.write(randomBytes(size), 0, size, 0)
      await file.sync()
    } finally {
      await file.close()
    }
    await unlink(identity)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  for (const name of DEVICE_DATA) await rm(join(dataDir, name), { recursive: true, force: true })
}
