/**
 * Child process for the blob kill -9 test: a receiver with a real BlobStore under `dir` fetching one blob from one
 * peer. Prints `MISSING <indices>` (what its store lacked at start), `HAVE <n>` after each durable window, then
 * `DONE <sha256 of the plaintext>` or `FAILED <reason>`.
 *
 * argv: dir, source multiaddr (with /p2p/), conversation, blob id, padded, size, key (hex)
 */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { createHearthNode } from '../../node/common/net/create-node.js'
import { openDatabase } from '../../node/common/storage/database.js'
import { fromHex } from '../../node/common/util/bytes.js'
import { BlobFetcher } from '../../node/src/core/blobs/blob-fetcher.js'
import { peerSource } from '../../node/src/core/blobs/blob-sources.js'
import { BlobStore } from '../../node/src/core/blobs/blob-store.js'
import { Logger } from '../../node/src/core/logger.js'
import { CoreStore } from '../../node/src/store/core-store.js'

const [dir, address, conversation, id, padded, size, keyHex] = process.argv.slice(2) as [string, string, string, string, string, string, string]
const db = await openDatabase({ path: join(dir, 'db') })
const store = await BlobStore.open(dir, new CoreStore(db, new Uint8Array(32).fill(7)), Logger.silent())
const node = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
await node.dial(address)
const peer = address.slice(address.lastIndexOf('/p2p/') + 5)
await store.expect(conversation, id, Number(padded))
process.stdout.write(`MISSING ${(await store.missing(id)).join(',')}\n`)
const fetcher = new BlobFetcher({ store })
const result = await fetcher.fetch(conversation, id, Number(padded), () => [peerSource(node, peer)], {
  onProgress: (p) => process.stdout.write(`HAVE ${p.have}\n`),
})
if (result.complete) {
  const hash = createHash('sha256')
  for await (const piece of store.plainStream(id, fromHex(keyHex), Number(size))) hash.update(piece)
  process.stdout.write(`DONE ${hash.digest('hex')}\n`)
} else {
  process.stdout.write(`FAILED ${result.reason}\n`)
}
await node.stop()
await store.close()
await db.close()
process.exit(0)
