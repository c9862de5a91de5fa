/**
 * What every command gets: the global options and the two output channels. Results go to stdout (human text, or JSON
 * with --json); progress and notes go to stderr so `hearth ... --json | jq` and pipes stay clean.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ConversationSummary } from '../api/types.js'
import type { ConversationId } from '../ids.js'
import { resolveConversation } from './args.js'
import { openSession, type GlobalOptions, type Session } from './session.js'

export interface Context extends GlobalOptions {
  /** Prints the human text, or the value as JSON with --json. */
  print(human: string | (() => string), value: unknown): void
  /** A note or progress line on stderr (never part of the result). */
  note(text: string): void
  now(): number
}

export function createContext(raw: { dataDir?: string; json?: boolean; passphraseFile?: string; listen?: string[] }): Context {
  const listen = raw.listen ?? []
  const envListen = (process.env.HEARTH_LISTEN ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0)
  const json = raw.json === true
  return {
    dataDir: resolve(raw.dataDir ?? process.env.HEARTH_DATA_DIR ?? join(homedir(), '.hearth')),
    json,
    passphraseFile: raw.passphraseFile,
    listen: listen.length > 0 ? listen : envListen,
    print(human, value) {
      if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n')
      else process.stdout.write((typeof human === 'function' ? human() : human) + '\n')
    },
    note(text) {
      process.stderr.write(text + '\n')
    },
    now: Date.now,
  }
}

export async function withSession<T>(ctx: Context, fn: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(ctx, (text) => ctx.note(text))
  try {
    return await fn(session)
  } finally {
    await session.close()
  }
}

/** A conversation named on the command line by id, id prefix or name. */
export async function findConversation(session: Session, ref: string): Promise<ConversationSummary> {
  return resolveConversation(await session.call('conversations.list'), ref)
}

/**
 * An invite made by an in-process core names this command's addresses, and the invite can only be redeemed while
 * this device is online: say so, since the command is about to exit.
 */
export function noteOfflineInvite(ctx: Context, session: Session): void {
  if (session.mode === 'local') {
    ctx.note('note: no daemon is running for this data dir; the invite works once this device is online (`hearth start`).')
  }
}

/** Waits for `promise` (ignoring its failure) or `ms`, whichever comes first. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

/**
 * In-process only: give the remembered peers a moment to answer and pull what they have for this conversation, so a
 * one-shot `read` shows what was said while no Hearth process ran here. A daemon is always catching up by itself.
 */
export async function catchUp(session: Session, conversationId: string): Promise<void> {
  const local = session.local
  if (local === undefined) return
  await settleWithin(local.reachingPeers, 1_500)
  const { core } = local.opened
  const peers = core.node.connectedPeers()
  if (peers.length === 0) return
  await settleWithin(Promise.all(peers.map((p) => core.syncWith(p, conversationId as ConversationId))), 2_500)
  await core.settle()
}
