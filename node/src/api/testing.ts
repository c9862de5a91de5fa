/**
 * A real core on a temp data dir for the API and CLI unit tests (node/ cannot import test/helpers: the dependency
 * rule). Real identity, LevelDB and libp2p on TCP loopback; only the scrypt cost is lowered, to keep tests fast.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { passphraseKeyProvider } from '../../common/crypto/keystore.js'
import { initDataDir, openCore, type OpenedCore } from '../core/open-core.js'
import { Logger } from '../core/logger.js'
import WebSocket from 'ws'
import type { Response } from './contract.js'

export const TEST_SCRYPT_COST = { N: 2 ** 10, r: 8, p: 1 }

export interface TempCore extends OpenedCore {
  dataDir: string
  /** Closes the core and removes its data dir. */
  dispose(): Promise<void>
}

export async function openTempCore(name: string): Promise<TempCore> {
  const dataDir = await mkdtemp(join(tmpdir(), `hearth-api-${name}-`))
  const keyProvider = passphraseKeyProvider('test passphrase', { cost: TEST_SCRYPT_COST })
  await initDataDir(dataDir, name, keyProvider)
  const opened = await openCore({
    dataDir,
    keyProvider,
    logger: Logger.silent(),
    syncIntervalMs: 1_000,
    network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false },
  })
  return {
    ...opened,
    dataDir,
    async dispose() {
      await opened.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** The error of a response that must have failed. */
export function errorOf(response: Response): { code: string; message: string } {
  if (response.ok) throw new Error(`expected an error, got ${JSON.stringify(response.result)}`)
  return response.error
}

/** The result of a response that must have succeeded. */
export function resultOf<T>(response: Response): T {
  if (!response.ok) throw new Error(`expected a result, got ${response.error.code}: ${response.error.message}`)
  return response.result as T
}

/** The HTTP status a WebSocket handshake got, or 101 when it was accepted. */
export function handshake(url: string, options: { protocols?: string[]; origin?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], options.origin === undefined ? {} : { origin: options.origin })
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.on('open', () => {
      resolve(101)
      ws.close()
    })
    ws.on('error', (err) => reject(err))
  })
}
