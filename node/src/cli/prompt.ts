/**
 * Terminal input: the passphrase (from a file, the environment, or a prompt with echo off), the recovery phrase, and
 * text piped on stdin.
 */
import { readFile } from 'node:fs/promises'
import { HearthError } from '../../common/errors.js'
import { UsageError } from './args.js'

const MAX_STDIN_BYTES = 1024 * 1024

/** Raised when the person presses Ctrl-C at a prompt; main exits 130 like a shell would. */
export class Cancelled extends Error {
  override readonly name = 'Cancelled'
}

export interface PassphraseSources {
  passphraseFile?: string | undefined
}

/** The shortest passphrase a new identity (or a new passphrase) gets, as the app asks (OnboardingCard, contract.ts). */
export const MIN_PASSPHRASE = 8

/** The rule for a passphrase being chosen, wherever it comes from (`init`, `start`'s first run, `passphrase`). */
export function checkNewPassphrase(passphrase: string): string {
  if (passphrase.length < MIN_PASSPHRASE) throw new UsageError(`the new passphrase needs at least ${MIN_PASSPHRASE} characters`)
  return passphrase
}

/**
 * Order: --passphrase-file, HEARTH_PASSPHRASE, an interactive prompt on a terminal. Without a terminal there is no one
 * to ask, so it is an error rather than a hang on stdin. `choose` is for a passphrase being chosen (a new identity): it
 * must be at least MIN_PASSPHRASE characters from any source, and the prompt asks for it twice.
 */
export async function getPassphrase(sources: PassphraseSources, options: { choose?: boolean } = {}): Promise<string> {
  const passphrase = await readPassphrase(sources, options.choose === true)
  return options.choose === true ? checkNewPassphrase(passphrase) : passphrase
}

async function readPassphrase(sources: PassphraseSources, choose: boolean): Promise<string> {
  if (sources.passphraseFile !== undefined) {
    let text: string
    try {
      text = await readFile(sources.passphraseFile, 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read the passphrase file ${sources.passphraseFile}: ${(err as Error).message}`)
    }
    // Only the final newline an editor or `echo` adds is dropped: other whitespace may be part of the passphrase.
    const passphrase = text.replace(/\r?\n$/, '')
    if (passphrase.length === 0) throw new UsageError(`the passphrase file ${sources.passphraseFile} is empty`)
    return passphrase
  }
  const fromEnv = process.env.HEARTH_PASSPHRASE
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv
  if (!process.stdin.isTTY) {
    throw new HearthError(
      'INVALID_INPUT',
      'a passphrase is needed to unlock the keys: set HEARTH_PASSPHRASE, use --passphrase-file <file>, or run in a terminal',
    )
  }
  for (;;) {
    const first = await promptHidden(choose ? 'Choose a passphrase: ' : 'Passphrase: ')
    if (first.length === 0) {
      process.stderr.write('The passphrase must not be empty.\n')
      continue
    }
    if (!choose) return first
    if (first.length < MIN_PASSPHRASE) {
      process.stderr.write(`The passphrase needs at least ${MIN_PASSPHRASE} characters; try again.\n`)
      continue
    }
    const again = await promptHidden('Repeat the passphrase: ')
    if (again === first) return first
    process.stderr.write('The two passphrases differ; try again.\n')
  }
}

/** Reads a line from the terminal without echoing it (raw mode), handling backspace and Ctrl-C. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    process.stderr.write(question)
    const wasRaw = stdin.isRaw
    stdin.setRawMode(true)
    stdin.setEncoding('utf8')
    stdin.resume()
    let value = ''
    const done = () => {
      stdin.off('data', onData)
      stdin.setRawMode(wasRaw)
      stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done()
          resolve(value)
          return
        }
        if (ch === '\u0003') {
          done()
          reject(new Cancelled('cancelled'))
          return
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('')
        else if (ch >= ' ') value += ch
      }
    }
    stdin.on('data', onData)
  })
}

/** All of stdin as text (for `send -` and a piped recovery phrase), bounded so a runaway pipe cannot exhaust memory. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += buf.length
    if (size > MAX_STDIN_BYTES) throw new HearthError('TOO_LARGE', 'standard input is larger than 1 MiB')
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}
