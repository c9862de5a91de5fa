/**
 * api.json in the data dir: where the running daemon (or the app in browser mode) serves the core API, its token and
 * its pid (0600: the token is the API's only credential, so only this user may read it). Every command reads it, so
 * this module stays light: checked by hand rather than with zod, which would cost a command more to load than the
 * rest of its work against a running core.
 */
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface ApiFile {
  url: string
  token: string
  pid: number
}

export async function writeAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 })
  await chmod(tmp, 0o600) // the mode above is masked by the umask; be explicit
  await rename(tmp, path)
}

export const apiFilePath = (dataDir: string) => join(dataDir, 'api.json')

function parseApiFile(value: unknown): ApiFile | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { url, token, pid } = value as Record<string, unknown>
  if (typeof url !== 'string' || !/^ws:\/\/127\.0\.0\.1:\d{1,5}$/.test(url)) return undefined
  if (typeof token !== 'string' || token.length < 16 || token.length > 256) return undefined
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined
  return { url, token, pid }
}

/** The file's contents, or undefined when it is absent or damaged (a damaged file is ignored, not fatal). */
export async function readApiFile(dataDir: string): Promise<ApiFile | undefined> {
  try {
    return parseApiFile(JSON.parse(await readFile(apiFilePath(dataDir), 'utf8')))
  } catch {
    return undefined
  }
}

export function writeApiFile(dataDir: string, file: ApiFile): Promise<void> {
  return writeAtomic(apiFilePath(dataDir), file)
}

/** Removes api.json only if it is still the one `pid` wrote (a newer daemon may have replaced it). */
export async function removeApiFile(dataDir: string, pid: number): Promise<void> {
  const current = await readApiFile(dataDir)
  if (current?.pid === pid) await rm(apiFilePath(dataDir), { force: true })
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still means the pid is taken.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
