/**
 * Runs the core smoke test (smoke-core.ts) against the copy of the app inside a built installer directory: the
 * app.asar electron-builder produced, extracted with its unpacked native modules next to it. This checks the file set
 * the installer ships (every npm package the core loads, the native binaries for this platform), which the Electron
 * runtime would otherwise only reveal on someone's machine.
 *
 *   npx tsx electron/scripts/smoke-packaged.ts [dist/installers]
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { extractAll } from '@electron/asar'

const searchRoot = resolve(process.argv[2] ?? 'dist/installers')

/** The first app.asar under `dir` (win-unpacked/, linux-unpacked/, mac-universal/Hearth.app/…), a few levels deep. */
function findAsar(dir: string, depth = 6): string | undefined {
  if (depth < 0 || !existsSync(dir)) return undefined
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (name === 'app.asar') return path
    if (statSync(path).isDirectory() && !name.endsWith('.asar.unpacked')) {
      const found = findAsar(path, depth - 1)
      if (found !== undefined) return found
    }
  }
  return undefined
}

const asar = findAsar(searchRoot)
if (asar === undefined) {
  console.error(`no app.asar under ${searchRoot}: build the installers first`)
  process.exit(1)
}
const app = join(mkdtempSync(join(tmpdir(), 'hearth-packaged-')), 'app')
extractAll(asar, app)
if (existsSync(`${asar}.unpacked`)) cpSync(`${asar}.unpacked`, app, { recursive: true })
console.log(`smoke: testing ${asar}`)

const script = resolve(import.meta.dirname, 'smoke-core.ts')
const result = spawnSync(process.execPath, ['--import', 'tsx', script, join(app, 'dist', 'electron', 'core-process.js')], { stdio: 'inherit' })
rmSync(join(app, '..'), { recursive: true, force: true })
process.exit(result.status ?? 1)
