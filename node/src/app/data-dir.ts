/** Where the app keeps its data, from the same environment the `hearth` CLI reads, so both see one identity. */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** HEARTH_DATA_DIR, else ~/.hearth (the CLI's default). */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.HEARTH_DATA_DIR ?? join(homedir(), '.hearth'))
}

/** HEARTH_LISTEN: comma-separated multiaddrs; empty means "the ports this data dir used last". */
export function listenFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.HEARTH_LISTEN ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0)
}
