/**
 * Baseline for the relay benchmark: a process serving a request/response protocol over the same framing, transport
 * and limits as the mailbox, that does no work (no decoding, no signature check, no storage) and answers every request
 * with the same small frame (a deposit answer for a batch of the size given as the second argument). The protocol id
 * comes as the first argument. Prints `READY <multiaddr>` on stdout; runs
 * until killed.
 */
import { createHearthNode } from '../../node/common/net/create-node.js'
import { handleProtocol } from '../../node/common/net/request-response.js'
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, encodeMailboxResponse } from '../../node/common/wire/mailbox.js'

const protocol = process.argv[2] ?? '/hearth/bench-echo/1.0.0'

const node = await createHearthNode({
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: false,
  dht: false,
  connectionLimits: { maxConnections: 5_000, inboundConnectionThreshold: 100_000 },
  onError: () => {},
})
const batch = Number(process.argv[3] ?? 20)
const answer = encodeMailboxResponse({ kind: 'deposit', results: Array.from({ length: batch }, () => ({ status: 'stored' as const })) })
await handleProtocol(node, protocol, { maxRequestBytes: MAX_REQUEST_BYTES, maxResponseBytes: MAX_RESPONSE_BYTES, timeoutMs: 30_000, maxInboundStreams: 64 }, async () => answer)
process.stdout.write(`READY ${node.addresses()[0]}\n`)
