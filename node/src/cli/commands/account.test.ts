import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { passphraseKeyProvider } from '../../../common/crypto/keystore.js'
import { createIdentity, IDENTITY_FILE, loadIdentity, saveIdentity } from '../../identity/identity.js'
import type { Context } from '../context.js'
import { runPassphrase, runRecoveryPhrase } from './account.js'

/** `hearth recovery-phrase` and `hearth passphrase` on a real identity file (default scrypt cost, as the CLI uses). */
let root: string
let phrase: string
const OLD = 'the old passphrase'
const NEW = 'the new passphrase'

function context(dataDir: string, passphraseFile: string) {
  const printed: unknown[] = []
  const notes: string[] = []
  const ctx: Context = {
    dataDir,
    json: true,
    passphraseFile,
    listen: [],
    print: (_human, value) => printed.push(value),
    note: (text) => notes.push(text),
    now: Date.now,
  }
  return { ctx, printed, notes }
}

async function file(name: string, text: string): Promise<string> {
  const path = join(root, name)
  await writeFile(path, `${text}\n`)
  return path
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-cli-account-'))
  const created = await createIdentity('Solo', Date.now())
  phrase = created.recoveryPhrase
  await saveIdentity(root, created.identity, passphraseKeyProvider(OLD))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('hearth recovery-phrase and hearth passphrase', () => {
  it('shows the phrase for the right passphrase only', async () => {
    const right = context(root, await file('old.txt', OLD))
    await runRecoveryPhrase(right.ctx)
    expect(right.printed).toEqual([{ recoveryPhrase: phrase }])
    expect(right.notes.join('\n')).toContain('no one is looking')
    const wrong = context(root, await file('wrong.txt', 'not it at all'))
    await expect(runRecoveryPhrase(wrong.ctx)).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' })
    expect(wrong.printed).toEqual([])
  })

  it('changes the passphrase; a wrong current one changes nothing', async () => {
    const before = await readFile(join(root, IDENTITY_FILE))
    const wrong = context(root, await file('wrong.txt', 'not it at all'))
    await expect(runPassphrase(wrong.ctx, { newPassphraseFile: await file('new.txt', NEW) })).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
      message: expect.stringContaining('nothing was changed'),
    })
    expect(await readFile(join(root, IDENTITY_FILE))).toEqual(before)
    await expect(runPassphrase(context(root, await file('old.txt', OLD)).ctx, { newPassphraseFile: await file('short.txt', 'short') })).rejects.toThrow(
      'at least 8 characters',
    )

    const ok = context(root, await file('old.txt', OLD))
    await runPassphrase(ok.ctx, { newPassphraseFile: await file('new.txt', NEW) })
    expect(ok.printed).toEqual([{ changed: true }])
    await expect(loadIdentity(root, passphraseKeyProvider(OLD))).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' })
    const after = context(root, await file('new.txt', NEW))
    await runRecoveryPhrase(after.ctx)
    expect(after.printed).toEqual([{ recoveryPhrase: phrase }])
  })

  it('refuses to change the passphrase while a daemon holds the data dir (it would write the old one back)', async () => {
    const busy = join(root, 'busy')
    const { mkdir } = await import('node:fs/promises')
    await mkdir(busy)
    // A live pid that does not answer on its API: still a daemon as far as this command can tell.
    await writeFile(join(busy, 'api.json'), JSON.stringify({ url: 'ws://127.0.0.1:9', token: 'x'.repeat(32), pid: process.pid }))
    const { ctx } = context(busy, await file('old.txt', OLD))
    await expect(runPassphrase(ctx, { newPassphraseFile: await file('new.txt', NEW) })).rejects.toMatchObject({
      message: expect.stringContaining('daemon'),
      hint: expect.stringContaining('stop it first'),
    })
  })
})
