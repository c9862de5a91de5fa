import type { Migration } from '../../common/storage/migrations.js'

/**
 * The core's schema history. Append only: a released migration is never edited, and each one must be safe to run again
 * after a crash before its version bump (docs/STORAGE.md).
 */
export const coreMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'initial keyspace: conv, op, epoch, own, stream, env, chg, msg, mid, mine, rcpt',
    async up() {
      // Nothing to transform: version 1 is the first layout.
    },
  },
  {
    version: 2,
    description: 'blob keyspace: blob/r (attachment blob records), blob/h (their hash lists)',
    async up() {
      // New keys only, nothing to transform. The bump still matters: a Hearth that predates attachments refuses to
      // open a database that may hold blob records instead of ignoring files it would never clean up.
    },
  },
]
