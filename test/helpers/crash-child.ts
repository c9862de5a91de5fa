/**
 * Child process for the kill -9 test: opens a real core on a data directory and sends messages as fast as it can,
 * printing `ACK <conversation> <messageId>` only after `send` resolved, i.e. after the user would have been told.
 */
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import { initDataDir, openCore } from '../../node/src/core/open-core.js'
import { identityExists } from '../../node/src/identity/identity.js'
import type { ConversationId } from '../../node/src/ids.js'
import { Logger } from '../../node/src/core/logger.js'

const dataDir = process.argv[2]!
const provider = passphraseKeyProvider('crash test passphrase', { cost: { N: 2 ** 10, r: 8, p: 1 } })
if (!identityExists(dataDir)) await initDataDir(dataDir, 'crasher', provider)
const { core } = await openCore({
  dataDir,
  keyProvider: provider,
  logger: Logger.silent(),
  network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false },
})
const id = (core.listConversations()[0] ?? (await core.createConversation({ kind: 'group', name: 'crash' }))).id as ConversationId
process.stdout.write(`READY ${id}\n`)
for (let i = 0; ; i++) {
  const m = await core.send(id, `message ${i} ${'x'.repeat(i % 300)}`)
  process.stdout.write(`ACK ${id} ${m.id}\n`)
}
