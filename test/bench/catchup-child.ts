/**
 * Child process of the catch-up piece: alice's core reopened on her data directory, in its own process as her device
 * would be, so bob's catch-up is measured on a thread of its own (in the bench's process alice's serving of the sync
 * pages and her handling of bob's 10,000 delivery receipts would share his thread). Usage: catchup-child.ts DATA_DIR.
 * Prints `ADDR <multiaddr>` once listening; on stdin, `cpu` prints `CPU <ms>` (user + system since start, every
 * thread) and `exit` (or the end of stdin) closes the core. The directory is the parent's to remove.
 */
import { createInterface } from 'node:readline'
import { openBenchCore } from './harness.js'

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: catchup-child.ts DATA_DIR')
const alice = await openBenchCore('alice', dir)
process.stdout.write(`ADDR ${alice.core.node.addresses()[0]!}\n`)
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'cpu') {
    const cpu = process.cpuUsage()
    process.stdout.write(`CPU ${(cpu.user + cpu.system) / 1000}\n`)
  } else if (line === 'exit') break
}
await alice.close()
process.exit(0)
