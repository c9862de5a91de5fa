/**
 * A Hearth core in its own OS process with mDNS on, for the LAN discovery test.
 *   host <dataDir>          creates a group and prints `INVITE <code>` whose address list is EMPTY, so the guest can
 *                           only find the host through mDNS; prints `GOT <body>` for each message from others.
 *   guest <dataDir> <code>  joins (finding the host on the LAN), sends a greeting, prints `GOT <body>` likewise.
 * Both reply once to the first message they receive.
 */
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import { Logger } from '../../node/src/core/logger.js'
import { initDataDir, openCore } from '../../node/src/core/open-core.js'
import { decodeInvite, encodeInvite } from '../../node/src/conversation/invite-code.js'
import type { ConversationId } from '../../node/src/ids.js'

const [role, dataDir, code] = process.argv.slice(2) as [string, string, string | undefined]
const provider = passphraseKeyProvider('lan test', { cost: { N: 2 ** 10, r: 8, p: 1 } })
await initDataDir(dataDir, role, provider)
const serviceTag = process.env.HEARTH_TEST_MDNS_TAG ?? 'hearth-test'
const { core, close } = await openCore({
  dataDir,
  keyProvider: provider,
  logger: Logger.silent(),
  network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { serviceTag, interval: 500 }, dht: false },
})
process.on('SIGTERM', () => void close().then(() => process.exit(0)))

let replied = false
core.events.on('message.added', ({ conversation, message }) => {
  if (message.mine) return
  process.stdout.write(`GOT ${message.body}\n`)
  if (!replied) {
    replied = true
    void core.send(conversation as ConversationId, `${role} heard you`)
  }
})

if (role === 'host') {
  const group = await core.createConversation({ kind: 'group', name: 'LAN family' })
  const invite = decodeInvite((await core.createInvite(group.id as ConversationId)).code)
  process.stdout.write(`INVITE ${encodeInvite({ ...invite, addresses: [] })}\n`)
} else {
  const group = await core.join(code!)
  process.stdout.write('JOINED\n')
  await core.send(group.id as ConversationId, 'hello over the LAN')
}
