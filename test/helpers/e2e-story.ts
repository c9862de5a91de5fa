import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, it } from 'vitest'
import { launchBrowser, type E2eBrowser } from './e2e-browser.js'
import { buildUi, freePort, startHost, type HostProcess } from './e2e-hosts.js'
import { onboard } from './e2e-ui.js'

export interface TwoPeople {
  readonly alice: Page
  readonly bob: Page
  /** One step of the story: steps build on each other, so after the first failure the rest are skipped. */
  step(name: string, fn: () => Promise<void>): void
}

/** Both onboard; Alice creates the group "Family" and Bob joins it with its invite link. */
export async function familyOfTwo(alice: Page, bob: Page): Promise<void> {
  await Promise.all([onboard(alice, 'Alice'), onboard(bob, 'Bob')])
  await alice.getByRole('button', { name: 'New group' }).click()
  await alice.getByLabel('Group name').fill('Family')
  await alice.getByRole('button', { name: 'Create group' }).click()
  const link = await alice.getByLabel('Invite link').inputValue()
  await alice.getByRole('button', { name: 'Close' }).click()
  await bob.getByRole('button', { name: 'Join' }).click()
  await bob.getByLabel('Invite link').fill(link)
  await bob.getByRole('dialog').getByRole('button', { name: 'Join' }).click()
  await bob.getByRole('heading', { name: 'Family', level: 2 }).waitFor({ timeout: 30_000 })
  await alice.getByText('2 members').waitFor({ timeout: 30_000 })
}

/**
 * Alice and Bob, each a browser-mode Hearth host (its own data directory and ports) in its own Chromium context: the
 * setup an end-to-end story between two people shares. Registers the file's hooks; on a failure it keeps the browser's
 * evidence and prints both hosts' output, and everything is stopped and removed at the end.
 */
export function twoPeople(prefix: string, options: { aliceClipboard?: boolean } = {}): TwoPeople {
  let root = ''
  let browser: E2eBrowser | undefined
  const hosts: HostProcess[] = []
  let alice: Page | undefined
  let bob: Page | undefined
  let failed = false

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `hearth-e2e-${prefix}-`))
    await buildUi()
    const started = await Promise.all(
      ['alice', 'bob'].map(async (name) => startHost(name, { dataDir: join(root, name), uiPort: await freePort(), listenPort: await freePort() })),
    )
    hosts.push(...started)
    browser = await launchBrowser()
    const aliceContext = await browser.context('alice')
    if (options.aliceClipboard) await aliceContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(started[0]!.url).origin })
    alice = await aliceContext.newPage()
    bob = await (await browser.context('bob')).newPage()
    await Promise.all([alice.goto(started[0]!.url), bob.goto(started[1]!.url)])
  })

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return
    failed = true
    await browser?.keepEvidence(context.task.name)
    for (const host of hosts) process.stderr.write(`--- ${host.name} output ---\n${host.output()}\n`)
  })

  afterAll(async () => {
    await browser?.close()
    await Promise.all(hosts.map((h) => h.stop()))
    if (root !== '') await rm(root, { recursive: true, force: true })
  })

  return {
    get alice() {
      if (alice === undefined) throw new Error('alice is not ready: use her inside a step')
      return alice
    },
    get bob() {
      if (bob === undefined) throw new Error('bob is not ready: use him inside a step')
      return bob
    },
    step(name, fn) {
      it(name, async (context) => {
        if (failed) context.skip()
        await fn()
      })
    },
  }
}
