/**
 * Child process of the flood piece: Mallory's core, in its own process as a flooding device would be on its own
 * machine (in the bench's process it would slow the honest cores by sharing their thread, which is not what is being
 * measured). Usage: flood-child.ts INVITE_CODE. Prints `READY`, then on stdin:
 *   flood    sends into the group as fast as her core accepts (eight sends in flight) until `stop`
 *   alone    the same into a conversation only she is in: the same CPU on this machine, no traffic to anyone
 *   stop     stops, prints `SENT <n>`
 *   exit     closes the core and exits
 */
import { createInterface } from 'node:readline'
import type { ConversationId } from '../../node/src/ids.js'
import { body, makeDataDir, openBenchCore, removeDir } from './harness.js'

const code = process.argv[2]!
const dir = await makeDataDir('mallory')
const mallory = await openBenchCore('mallory', dir)
const id = (await mallory.core.join(code)).id as ConversationId
const alone = (await mallory.core.createConversation({ kind: 'group', name: 'alone' })).id as ConversationId
process.stdout.write('READY\n')

let flooding = false
let sent = 0
let senders: Promise<void>[] = []

for await (const line of createInterface({ input: process.stdin })) {
  if ((line === 'flood' || line === 'alone') && !flooding) {
    flooding = true
    sent = 0
    const target = line === 'flood' ? id : alone
    senders = Array.from({ length: 8 }, async () => {
      while (flooding) {
        await mallory.core.send(target, body(sent++, 200))
      }
    })
  } else if (line === 'stop') {
    flooding = false
    await Promise.all(senders)
    process.stdout.write(`SENT ${sent}\n`)
  } else if (line === 'exit') {
    break
  }
}
// stdin closed or `exit`: stop any flood still running before the core goes.
flooding = false
await Promise.allSettled(senders)
await mallory.close()
await removeDir(dir)
