/**
 * `hearth recovery-phrase` and `hearth passphrase`: the CLI's side of Settings, Account. Both work on the identity
 * file directly (no core is opened): the phrase is read from it with the passphrase, and a new passphrase re-wraps it
 * atomically (`rewrapIdentity`). Changing the passphrase is refused while a daemon runs for the data dir: it keeps the
 * old passphrase in memory and would write the file back under it on a rename.
 */
import { passphraseKeyProvider } from '../../../common/crypto/keystore.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import { loadIdentity, recoveryPhraseOf, rewrapIdentity } from '../../identity/identity.js'
import { HintedError, UsageError } from '../args.js'
import type { Context } from '../context.js'
import { formatRecoveryPhrase } from '../format.js'
import { checkNewPassphrase, getPassphrase, promptHidden } from '../prompt.js'
import { probeDaemon } from '../session.js'

export const NOT_KEPT =
  'This identity was created before Hearth kept the recovery phrase, so it cannot show it again. The 24 words you wrote down when you started still restore your account.'

export async function runRecoveryPhrase(ctx: Context): Promise<void> {
  const identity = await loadIdentity(ctx.dataDir, passphraseKeyProvider(await getPassphrase(ctx)))
  const phrase = recoveryPhraseOf(identity)
  if (phrase === undefined) throw new HearthError('NOT_FOUND', NOT_KEPT)
  ctx.note('Anyone who sees these words can become you: show them only where no one is looking.')
  ctx.print(() => formatRecoveryPhrase(phrase), { recoveryPhrase: phrase })
}

export async function runPassphrase(ctx: Context, options: { newPassphraseFile?: string }): Promise<void> {
  const probe = await probeDaemon(ctx.dataDir)
  if (probe.kind === 'running' || probe.kind === 'silent') {
    if (probe.kind === 'running') probe.client.close()
    throw new HintedError(
      'INVALID_INPUT',
      `the Hearth daemon for ${ctx.dataDir} is running (pid ${probe.file.pid})`,
      'stop it first: it keeps the current passphrase in memory and would write the identity back under it',
    )
  }
  const current = await getPassphrase(ctx)
  const next = await newPassphrase(options.newPassphraseFile)
  if (next === current) throw new UsageError('the new passphrase is the same as the current one')
  try {
    await rewrapIdentity(ctx.dataDir, passphraseKeyProvider(current), passphraseKeyProvider(next))
  } catch (err) {
    if (isHearthError(err, 'WRONG_PASSPHRASE')) throw new HearthError('WRONG_PASSPHRASE', 'that is not the current passphrase; nothing was changed')
    throw err
  }
  ctx.print('Passphrase changed. Use the new one from now on (HEARTH_PASSPHRASE and --passphrase-file too).', { changed: true })
}

async function newPassphrase(file: string | undefined): Promise<string> {
  let next: string
  if (file !== undefined) {
    next = await getPassphrase({ passphraseFile: file })
  } else {
    if (!process.stdin.isTTY) throw new UsageError('give the new passphrase with --new-passphrase-file <file>, or run in a terminal')
    next = await promptHidden('New passphrase: ')
    if ((await promptHidden('Repeat the new passphrase: ')) !== next) throw new UsageError('the two new passphrases differ')
  }
  return checkNewPassphrase(next)
}
