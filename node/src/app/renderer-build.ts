/**
 * The browser mode serves renderer/dist. In a source checkout it is built on demand: when it is missing or older than
 * any source file the UI is made of (the renderer and the API contract it imports). An installed app ships the built
 * files without the sources, and those are used as they are.
 */
import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Logger } from '../core/logger.js'
import { ROOT_DIR } from './version.js'

export const RENDERER_DIR = join(ROOT_DIR, 'renderer')
export const RENDERER_DIST = join(RENDERER_DIR, 'dist')

/** What the UI bundle is built from, relative to the repository root. */
const SOURCES = ['renderer/src', 'renderer/public', 'renderer/index.html', 'renderer/vite.config.ts', 'node/src/api', 'node/common/errors.ts']

async function newestMtime(path: string): Promise<number> {
  let info
  try {
    info = await stat(path)
  } catch {
    return 0
  }
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)))
  return newest
}

/** True when renderer/dist is missing or older than its sources (false in an install without sources). */
export async function rendererIsStale(root: string = ROOT_DIR): Promise<boolean> {
  const index = join(root, 'renderer', 'dist', 'index.html')
  if (!existsSync(join(root, 'renderer', 'src'))) return false
  let built: number
  try {
    built = (await stat(index)).mtimeMs
  } catch {
    return true
  }
  let newest = 0
  for (const source of SOURCES) newest = Math.max(newest, await newestMtime(join(root, source)))
  return newest > built
}

/** Builds the UI with Vite when it is stale; returns the directory to serve. */
export async function ensureRendererBuilt(options: { logger?: Logger; note?: (text: string) => void } = {}): Promise<string> {
  if (await rendererIsStale()) {
    options.note?.('Building the UI (renderer/dist)…')
    // Loaded only when needed: an installed app has no Vite.
    const vite = await import('vite')
    await vite.build({ configFile: join(RENDERER_DIR, 'vite.config.ts'), logLevel: 'warn', mode: 'production' })
    options.logger?.info('built the UI')
  }
  return RENDERER_DIST
}
