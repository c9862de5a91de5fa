import { userInfo } from 'node:os'
import { passphraseKeyProvider } from '../../../common/crypto/keystore.js'
import { HearthError } from '../../../common/errors.js'
import { initDataDir } from '../../core/open-core.js'
import type { Identity } from '../../identity/identity.js'
import { identityExists } from '../../identity/identity.js'
import type { Context } from '../context.js'
import { fingerprint, formatRecoveryPhrase } from '../format.js'
import { getPassphrase, promptHidden, readStdin } from '../prompt.js'

export interface InitOptions {
  name?: string
  restore?: boolean
}

/** The name a new identity gets when none is given: --name, HEARTH_NAME, then the OS user name. */
export function defaultName(name: string | undefined): string {
  if (name !== undefined) return name
  if (process.env.HEARTH_NAME !== undefined && process.env.HEARTH_NAME.trim() !== '') return process.env.HEARTH_NAME
  try {
    return userInfo().username || 'me'
  } catch {
    return 'me'
  }
}

export async function runInit(ctx: Context, options: InitOptions): Promise<void> {
  // Checked before asking anything, so nobody types a passphrase only to be told the directory is taken.
  if (identityExists(ctx.dataDir)) {
    throw new HearthError('IDENTITY_EXISTS', `${ctx.dataDir} already holds a Hearth identity`)
  }
  let recoveryPhrase: string | undefined
  if (options.restore === true) {
    const text = process.stdin.isTTY ? await promptHidden('Recovery phrase (24 words, not shown): ') : await readStdin()
    recoveryPhrase = text.trim().toLowerCase().split(/\s+/).join(' ')
  }
  const passphrase = await getPassphrase(ctx, { choose: true })
  const created = await initDataDir(ctx.dataDir, defaultName(options.name), passphraseKeyProvider(passphrase), {
    ...(recoveryPhrase === undefined ? {} : { recoveryPhrase }),
  })
  printCreated(ctx, created.identity, created.recoveryPhrase)
}

/** Shared with `start`, which creates the identity on a first run. */
export function printCreated(ctx: Context, identity: Identity, recoveryPhrase: string | null): void {
  ctx.print(
    () => {
      const lines = [
        `Created a Hearth identity for ${identity.displayName} in ${ctx.dataDir}`,
        `  account  ${fingerprint(identity.account)}`,
      ]
      if (recoveryPhrase === null) {
        lines.push('Restored the account from its recovery phrase (this is a new device for it).')
      } else {
        lines.push(
          '',
          'Your recovery phrase. WRITE IT DOWN NOW and keep it somewhere safe: it is the only way to get your account',
          'back if this computer is lost (`hearth recovery-phrase` shows it again). Anyone who has it can become you.',
          '',
          formatRecoveryPhrase(recoveryPhrase),
          '',
        )
      }
      return lines.join('\n')
    },
    {
      account: identity.account,
      device: identity.deviceId,
      peerId: identity.peerId,
      displayName: identity.displayName,
      dataDir: ctx.dataDir,
      recoveryPhrase,
    },
  )
}
