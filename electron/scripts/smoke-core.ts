/**
 * Smoke test of the bundled core process without Electron: loads dist/electron/core-process.js (or the copy inside an
 * unpacked installer) in this Node process, standing in for Electron's utility process with a fake `process.parentPort`,
 * then drives it as main does: hands it a MessagePort, onboards an identity with a passphrase, sends a message, and
 * asks it to shut down (it must say `closed` and exit 0).
 *
 * It proves what unit tests cannot: the bundle loads, every npm package it imports is present where it is shipped,
 * native modules (LevelDB) load, and the process protocol works end to end. Electron 45 runs Node 22 as this does.
 *
 *   npx tsx electron/scripts/smoke-core.ts [path/to/core-process.js]
 */
import { EventEmitter } from 'node:events'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import type { AppStatus, CreatedIdentity } from '../../node/src/api/types.js'
import { formatCoreArgs, parseFromCore } from '../src/core-protocol.js'
import { createPortClient, type ClientPort } from '../src/port-client.js'

const entry = resolve(process.argv[2] ?? 'dist/electron/core-process.js')
const home = await mkdtemp(join(tmpdir(), 'hearth-smoke-'))
const step = (text: string) => console.log(`smoke: ${text}`)

const fromCore: unknown[] = []
const waiters: Array<() => void> = []
const parentPort = Object.assign(new EventEmitter(), {
  postMessage(message: unknown) {
    fromCore.push(message)
    for (const w of waiters.splice(0)) w()
  },
})
Object.defineProperty(process, 'parentPort', { value: parentPort })
process.argv = [process.argv[0]!, entry, ...formatCoreArgs({ dataDir: join(home, 'data'), keychain: false, logFile: join(home, 'core.log'), runtime: { smoke: '1' } })]
process.on('exit', (code) => {
  // The core exits by itself after a clean shutdown: it must have said `closed` first.
  const closed = fromCore.some((m) => parseFromCore(m)?.type === 'closed')
  if (!closed) process.exitCode = 1
  console.log(`smoke: the core ${closed ? 'closed cleanly and ' : 'did NOT close cleanly; it '}exited with ${code}`)
})

async function said(type: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!fromCore.some((m) => parseFromCore(m)?.type === type)) {
    if (Date.now() > deadline) throw new Error(`the core never said ${type}`)
    await new Promise<void>((r) => {
      waiters.push(r)
      setTimeout(r, 100)
    })
  }
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`smoke check failed: ${what}`)
  step(what)
}

try {
  await import(pathToFileURL(entry).href)
  await said('ready')
  step(`loaded ${entry}`)

  const { port1, port2 } = new MessageChannel()
  parentPort.emit('message', { data: { type: 'connect' }, ports: [port1] })
  const api = createPortClient(port2 as unknown as ClientPort)

  const status = await api.call('app.status')
  check(status.state === 'new' && status.needsPassphrase, 'a new data dir asks for a passphrase without a keychain')
  const created: CreatedIdentity = await api.call('app.create', { name: 'Smoke', passphrase: 'smoke test passphrase' })
  const words = created.recoveryPhrase.split(' ')
  const ready: AppStatus = await api.call('app.confirmRecovery', { words: created.confirmPositions.map((p) => words[p - 1]!) })
  check(ready.state === 'ready', 'identity created and the core opened (LevelDB, libp2p)')
  const conversation = await api.call('conversations.create', { kind: 'group', name: 'Smoke family' })
  const sent = await api.call('messages.send', { conversationId: conversation.id, body: 'hello from the bundle' })
  check(sent.body === 'hello from the bundle', 'a message was sent and stored')
  const info = await api.call('app.info')
  check(info.runtime.smoke === '1', 'runtime versions passed through the arguments')

  parentPort.emit('message', { data: { type: 'shutdown' }, ports: [] })
  await said('closed') // the core calls process.exit(0) right after saying it, ending this script
  throw new Error('the core said closed but did not exit')
} catch (err) {
  console.error(err)
  process.exit(1)
}
