/**
 * Whether the Electron runtime is installed, decided without requiring the electron package: with Electron 45 that call
 * downloads the runtime when it is missing (a ~100 MB fetch, or a failure without internet) — a question must not
 * have that side effect. This mirrors the check of electron's own install.js: path.txt names the executable and the
 * executable exists under dist/ (or under ELECTRON_OVERRIDE_DIST_PATH).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT_DIR } from './version.js'

export function electronExecutable(root: string = ROOT_DIR, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const packageDir = join(root, 'node_modules/electron')
  let relative: string
  try {
    relative = readFileSync(join(packageDir, 'path.txt'), 'utf8').trim()
  } catch {
    return undefined
  }
  if (relative.length === 0) return undefined
  const executable = env.ELECTRON_OVERRIDE_DIST_PATH ? join(env.ELECTRON_OVERRIDE_DIST_PATH, relative) : join(packageDir, 'dist', relative)
  return existsSync(executable) ? executable : undefined
}

export const ELECTRON_HINT =
  'For the desktop app, fetch the Electron runtime once (needs internet): npx install-electron (or node node_modules/electron/install.js), then npm start.'
