/**
 * `hearth`: the command line over the core API. Exit codes: 0 done, 1 the operation failed (`error: …` on stderr,
 * with a hint for common causes), 2 the command was mistyped, 130 cancelled at a prompt, 141 the reader of the output
 * went away (as a shell reports a process ended by SIGPIPE).
 *
 * Each command's module is imported when that command runs: most commands talk to a running daemon and need only the
 * API client, while the in-process core (libp2p, Automerge, LevelDB) costs seconds to load on a slow machine.
 */
import { Command, CommanderError } from 'commander'
import { isHearthError, type ErrorCode } from '../../common/errors.js'
import { HintedError, UsageError } from './args.js'
import { createContext, type Context } from './context.js'
import { Cancelled } from './prompt.js'
import { exitWhenFlushed, watchOutput } from './output.js'

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

export function buildProgram(): Command {
  const program = new Command('hearth')
    .description('Hearth: a peer-to-peer, end-to-end encrypted messenger (headless core and command line)')
    .option('--data-dir <dir>', 'data directory (default: $HEARTH_DATA_DIR or ~/.hearth)')
    .option('--json', 'print machine-readable JSON instead of text')
    .option('--passphrase-file <file>', 'read the passphrase from this file (else $HEARTH_PASSPHRASE, else a prompt)')
    .option('--listen <multiaddr>', 'listen on this address (repeatable; default $HEARTH_LISTEN or the ports used last)', collect)
    .exitOverride()
    .showSuggestionAfterError()

  // Every action receives its Command last; the context comes from the global options merged with its own.
  const ctxOf = (cmd: Command): Context => createContext(cmd.optsWithGlobals())

  program
    .command('init')
    .description('create an identity (prints the recovery phrase once)')
    .option('--name <name>', 'your display name (default: $HEARTH_NAME or your user name)')
    .option('--restore', 'restore the account from a recovery phrase (read from stdin or a prompt)')
    .action((opts: { name?: string; restore?: boolean }, cmd: Command) => import('./commands/init.js').then((m) => m.runInit(ctxOf(cmd), opts)))

  program
    .command('start')
    .description('run the core: LAN discovery, sync, and the core API on 127.0.0.1 (creates an identity on first run)')
    .option('--name <name>', 'display name if an identity is created')
    .option('--api-port <port>', 'core API port (default: $HEARTH_API_PORT or any free port)')
    .action((opts: { name?: string; apiPort?: string }, cmd: Command) => import('./commands/start.js').then((m) => m.runStart(ctxOf(cmd), opts)))

  program
    .command('whoami')
    .description('show this identity: name, account, device, peer id')
    .action((_opts: object, cmd: Command) => import('./commands/whoami.js').then((m) => m.runWhoami(ctxOf(cmd))))

  program
    .command('rename')
    .description('change your display name, in every conversation you are in')
    .argument('<name...>', 'the new name')
    .action((words: string[], _opts: object, cmd: Command) => import('./commands/rename.js').then((m) => m.runRename(ctxOf(cmd), words)))

  program
    .command('recovery-phrase')
    .description('show the 24-word recovery phrase again (asks for the passphrase)')
    .action((_opts: object, cmd: Command) => import('./commands/account.js').then((m) => m.runRecoveryPhrase(ctxOf(cmd))))

  program
    .command('passphrase')
    .description('change the passphrase that protects the keys (stop the daemon first)')
    .option('--new-passphrase-file <file>', 'read the new passphrase from this file (else a prompt)')
    .action((opts: { newPassphraseFile?: string }, cmd: Command) => import('./commands/account.js').then((m) => m.runPassphrase(ctxOf(cmd), opts)))

  program
    .command('create')
    .description('create a conversation and print an invite for it')
    .option('--group <name>', 'a group with this name')
    .option('--direct <name>', 'a direct chat (name it after the other person)')
    .action((opts: { group?: string; direct?: string }, cmd: Command) => import('./commands/create.js').then((m) => m.runCreate(ctxOf(cmd), opts)))

  program
    .command('invite')
    .description('make an invite code for a conversation')
    .argument('<conversation>', 'id, id prefix (4+ characters) or name')
    .option('--expires <duration>', 'lifetime like 30m, 1h, 7d, or "never" (default 7d)')
    .option('--multi', 'let several people use it (default: single use)')
    .action((ref: string, opts: { expires?: string; multi?: boolean }, cmd: Command) => import('./commands/invite.js').then((m) => m.runInvite(ctxOf(cmd), ref, opts)))

  program
    .command('join')
    .description('join a conversation with an invite code')
    .argument('<code>', 'the invite (hearth://j/… or hearth://join/…)')
    .action((code: string, _opts: object, cmd: Command) => import('./commands/join.js').then((m) => m.runJoin(ctxOf(cmd), code)))

  program
    .command('send')
    .description('send a message (use - to read it from stdin)')
    .argument('<conversation>', 'id, id prefix or name')
    .argument('<text...>', 'the message')
    .action((ref: string, words: string[], _opts: object, cmd: Command) => import('./commands/send.js').then((m) => m.runSend(ctxOf(cmd), ref, words)))

  program
    .command('list')
    .description('list conversations, most recent first')
    .action((_opts: object, cmd: Command) => import('./commands/list.js').then((m) => m.runList(ctxOf(cmd))))

  program
    .command('read')
    .description('show the newest messages of a conversation (and mark them read)')
    .argument('<conversation>', 'id, id prefix or name')
    .option('--limit <n>', 'how many messages (1-500, default 50)')
    .option('--before <cursor>', 'older page: the cursor printed under the previous one')
    .action((ref: string, opts: { limit?: string; before?: string }, cmd: Command) => import('./commands/read.js').then((m) => m.runRead(ctxOf(cmd), ref, opts)))

  program
    .command('follow')
    .description('print new messages as they arrive, until Ctrl-C')
    .argument('[conversation]', 'only this conversation')
    .action((ref: string | undefined, _opts: object, cmd: Command) => import('./commands/follow.js').then((m) => m.runFollow(ctxOf(cmd), ref)))

  program
    .command('peers')
    .description('list the devices this one is connected to, and those found on the LAN')
    .action((_opts: object, cmd: Command) => import('./commands/peers.js').then((m) => m.runPeers(ctxOf(cmd))))

  program
    .command('members')
    .description('list the members of a conversation')
    .argument('<conversation>', 'id, id prefix or name')
    .action((ref: string, _opts: object, cmd: Command) => import('./commands/members.js').then((m) => m.runMembers(ctxOf(cmd), ref)))

  program
    .command('remove')
    .description('remove a member (admins only); rotates the conversation keys')
    .argument('<conversation>', 'id, id prefix or name')
    .argument('<account>', 'account key, unique prefix (8+ hex) or display name')
    .action((ref: string, account: string, _opts: object, cmd: Command) => import('./commands/remove.js').then((m) => m.runRemove(ctxOf(cmd), ref, account)))

  program
    .command('leave')
    .description('leave a group (the last admin makes someone else admin first)')
    .argument('<conversation>', 'id, id prefix or name')
    .action((ref: string, _opts: object, cmd: Command) => import('./commands/leave.js').then((m) => m.runLeave(ctxOf(cmd), ref)))

  program
    .command('add-back')
    .description('add a removed member back (admins only); invites never readmit a removed member')
    .argument('<conversation>', 'id, id prefix or name')
    .argument('<account>', 'account key, unique prefix (8+ hex) or display name of the removed member')
    .action((ref: string, account: string, _opts: object, cmd: Command) => import('./commands/add-back.js').then((m) => m.runAddBack(ctxOf(cmd), ref, account)))

  program
    .command('verify')
    .description("show the safety number with a member, to check their key is really theirs; mark them verified")
    .argument('<conversation>', 'id, id prefix or name')
    .argument('<member>', 'account key, unique prefix (8+ hex) or display name')
    .option('--mark', 'the digits matched: mark this person verified on this device')
    .option('--code <code>', "the code the other person's Hearth shows: marks them verified only if it matches")
    .option('--unmark', 'forget that this person was verified')
    .action((ref: string, member: string, opts: { mark?: boolean; code?: string; unmark?: boolean }, cmd: Command) =>
      import('./commands/verify.js').then((m) => m.runVerify(ctxOf(cmd), ref, member, opts)),
    )

  return program
}

const HINTS: Partial<Record<ErrorCode, (ctx: { dataDir: string }) => string>> = {
  NO_IDENTITY: () => 'run `hearth init` first (or `hearth start`, which creates an identity)',
  WRONG_PASSPHRASE: () => 'check $HEARTH_PASSPHRASE or the --passphrase-file you gave',
  STORAGE_LOCKED: () => 'one process at a time opens a data dir; other commands reach a running `hearth start` (or the app) by themselves',
  IDENTITY_EXISTS: () => 'keep using it, or choose another --data-dir',
  INVALID_RECOVERY_PHRASE: () => 'check the 24 words and their order',
  UNREACHABLE: () => 'the member who made the invite must be online (running Hearth) and reachable from here',
  INVITE_EXPIRED: () => 'ask for a new invite',
  INVITE_REVOKED: () => 'ask for a new invite',
  INVITE_USED: () => 'ask for a new invite (this one was single use)',
  REMOVED: () => 'an admin of the conversation can add you back (`hearth add-back` on their side)',
  NOT_AN_ADMIN: () => 'ask an admin of the conversation',
}

/** Prints the error and returns the exit code. */
export function reportError(err: unknown, options: { json: boolean; dataDir: string }): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help); help and --version are not failures.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2
  }
  if (err instanceof Cancelled) {
    process.stderr.write('cancelled\n')
    return 130
  }
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n(see hearth --help)\n`)
    return 2
  }
  const code: ErrorCode = isHearthError(err) ? err.code : 'INTERNAL'
  const message = err instanceof Error ? err.message : String(err)
  process.stderr.write(`error: ${message}\n`)
  const hint = err instanceof HintedError ? err.hint : HINTS[code]?.(options)
  if (hint !== undefined) process.stderr.write(`hint: ${hint}\n`)
  if (!isHearthError(err) && process.env.HEARTH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`)
  if (options.json) process.stdout.write(JSON.stringify({ error: { code, message } }) + '\n')
  return 1
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    // A command that printed its result may still report a failure through the exit status (a send that failed).
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    const ctx = createContext(program.opts())
    return reportError(err, ctx)
  }
}

watchOutput()
await exitWhenFlushed(await main(process.argv))
