/**
 * Hearth's version, from the repository's package.json. Read at run time rather than imported so the file works
 * unbundled (tsx) and in the Electron bundle alike; a bundle that moved the file reports 'unknown' rather than failing.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const ROOT_DIR = join(import.meta.dirname, '..', '..', '..')

let cached: string | undefined

export function hearthVersion(): string {
  if (cached !== undefined) return cached
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT_DIR, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
    cached = pkg.name === 'hearth' && typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    cached = 'unknown'
  }
  return cached
}
