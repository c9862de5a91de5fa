import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

let tempCounter = 0

/**
 * Replaces `path` so that after a crash it holds either the old bytes or the new ones, never a torn mix: write a
 * sibling temp file (same directory, so rename is atomic on one filesystem), fsync it, rename over, then fsync the
 * directory so the rename itself survives power loss. Files default to owner-only because keys go through here.
 */
export async function atomicWriteFile(path: string, bytes: Uint8Array, options: { mode?: number } = {}): Promise<void> {
  const dir = dirname(path)
  // Unique per process and call; 'wx' below turns any collision into an error instead of a clobber.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`)
  const file = await open(temp, 'wx', options.mode ?? 0o600)
  try {
    try {
      await file.writeFile(bytes)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
  await syncDirectory(dir)
}

async function syncDirectory(dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
  } catch {
    // Windows cannot open a directory for fsync; there rename is already durable enough via NTFS journaling.
    return
  }
  try {
    await handle.sync()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EPERM' && code !== 'EINVAL' && code !== 'EISDIR') throw err
  } finally {
    await handle.close()
  }
}
