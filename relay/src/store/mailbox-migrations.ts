import { randomBytes } from '../../../node/common/crypto/random.js'
import type { Migration } from '../../../node/common/storage/migrations.js'
import { RELAY_META_KEY, STATE_KEY, encodeMeta, encodeState, type RelayMeta } from './layout.js'

/** The relay mailbox store's schema versions, applied in order when the store opens. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'relay mailbox store: generation, peer salt and an empty state',
    async up(db) {
      // Idempotent: a crash before the version bump runs this again and must not mint a new generation.
      if ((await db.get(RELAY_META_KEY)) !== undefined) return
      const meta: RelayMeta = { generation: randomBytes(8), peerSalt: randomBytes(32) }
      await db.batch(
        [
          { type: 'put', key: RELAY_META_KEY, value: encodeMeta(meta) },
          { type: 'put', key: STATE_KEY, value: encodeState({ q: 0, b: 0, n: 0 }) },
        ],
        { sync: true },
      )
    },
  },
]
