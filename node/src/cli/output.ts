/**
 * Ending the process without losing output. Into a pipe, Node writes stdout asynchronously: what the kernel's pipe
 * buffer (64 KiB) cannot take at once waits in the process, and process.exit() would drop it while a slow reader (a
 * script piping into jq) gets a truncated document and exit code 0. So the CLI exits only once both streams have
 * handed everything to the kernel, and a reader that went away ends the process quietly with 141, the status a shell
 * shows for a process ended by SIGPIPE.
 */

/** The exit status when the reader of stdout (or stderr) closed its end: 128 + SIGPIPE, as shells report it. */
export const READER_GONE = 141

function readerGone(stream: NodeJS.WriteStream): boolean {
  return (stream.errored as NodeJS.ErrnoException | null)?.code === 'EPIPE'
}

/** Call once at start: a closed pipe is an ordinary end for a command-line tool, not a crash with a stack trace. */
export function watchOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // Nothing more can be said to anyone: stop at once (what the core saved is on disk already).
      process.exit(err.code === 'EPIPE' ? READER_GONE : 1)
    })
  }
}

/** Resolves once everything written to `stream` so far has been handed to the operating system (or has failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed) return Promise.resolve()
  // Writes complete in order, so an empty write's callback runs after all earlier ones. writableLength is no guide:
  // it can read 0 while a write that failed has yet to report it.
  return new Promise((resolve) => stream.write('', () => resolve()))
}

/**
 * Exits with `code` once stdout and stderr are flushed. The explicit exit stays: libp2p and LevelDB may leave
 * handles behind after a clean close, and a CLI must not linger.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  process.exitCode = code
  await Promise.all([flushed(process.stdout), flushed(process.stderr)])
  // A write that failed reports it on a later turn: let the handler above see it before choosing the exit status.
  await new Promise((resolve) => setImmediate(resolve))
  if (readerGone(process.stdout) || readerGone(process.stderr)) process.exitCode = READER_GONE
  process.exit()
}
