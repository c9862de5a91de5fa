import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import { Logger } from '../../node/src/core/logger.js'
import { openCore } from '../../node/src/core/open-core.js'
import type { ConversationId } from '../../node/src/ids.js'

const root = new URL('../../', import.meta.url).pathname

/** Runs the child until it has acknowledged `acks` messages, then kills it with SIGKILL mid-burst. */
async function sendThenKill(dataDir: string, acks: number): Promise<Map<string, string>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/crash-child.ts', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const acknowledged = new Map<string, string>()
  const lines = createInterface({ input: child.stdout })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  for await (const line of lines) {
    const [kind, conversation, id] = line.split(' ')
    if (kind !== 'ACK') continue
    acknowledged.set(id!, conversation!)
    if (acknowledged.size === acks) {
      child.kill('SIGKILL')
      break
    }
  }
  await exited
  return acknowledged
}

describe('what the user was told is saved survives kill -9', () => {
  const dirs: string[] = []
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it('a real child process killed mid-burst, twice, then reopened, holds every acknowledged message', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hearth-crash-'))
    dirs.push(dataDir)
    const first = await sendThenKill(dataDir, 150)
    const second = await sendThenKill(dataDir, 150)
    const acknowledged = new Map([...first, ...second])
    expect(acknowledged.size).toBe(300)

    const { core, close } = await openCore({
      dataDir,
      keyProvider: passphraseKeyProvider('crash test passphrase', { cost: { N: 2 ** 10, r: 8, p: 1 } }),
      logger: Logger.silent(),
      network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false },
    })
    try {
      const id = [...acknowledged.values()][0] as ConversationId
      const held = new Set<string>()
      let before: string | undefined
      for (;;) {
        const page = await core.page(id, { limit: 500, before })
        for (const m of page.messages) held.add(m.id)
        if (page.nextBefore === null) break
        before = page.nextBefore
      }
      const missing = [...acknowledged.keys()].filter((m) => !held.has(m))
      expect(missing).toEqual([])
      // The store is consistent after the crash: the core still sends.
      const after = await core.send(id, 'after the crash')
      expect(after.state).toBe('pending')
    } finally {
      await close()
    }
  })
})
