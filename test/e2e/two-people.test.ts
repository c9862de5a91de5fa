/// <reference lib="dom" />
/**
 * Two people, two cores, two browser windows, through the browser mode exactly as `npm run start:web` runs it (each
 * core a child process with its own data dir; mDNS off, so they meet through the invite's loopback address):
 * onboarding, a group, an invite link copied from the UI and pasted by the other, messages both ways with their
 * delivered and read states, a reload, a change of name and of role, and a core stopped and restarted while the other
 * keeps writing (its open tab reconnecting by itself). Every screen
 * is checked with axe-core on the way.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, RESULTS_DIR, ROOT, type E2eBrowser } from '../helpers/e2e-browser.js'
import { buildUi, freePort, startHost, type HostOptions, type HostProcess } from '../helpers/e2e-hosts.js'
import { expectAccessible, messageRow, onboard, openConversation, send, unlock, waitForState } from '../helpers/e2e-ui.js'

let root: string
let browser: E2eBrowser
const hosts = new Map<string, HostProcess>()
const options = new Map<string, HostOptions>()
let alice: Page
let bob: Page
let aliceContext: BrowserContext
let failed = false

async function start(name: string): Promise<HostProcess> {
  const host = await startHost(name, options.get(name)!)
  hosts.set(name, host)
  return host
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-e2e-'))
  await buildUi()
  for (const name of ['alice', 'bob']) {
    options.set(name, { dataDir: join(root, name), uiPort: await freePort(), listenPort: await freePort() })
  }
  const [aliceHost, bobHost] = await Promise.all([start('alice'), start('bob')])
  browser = await launchBrowser()
  aliceContext = await browser.context('alice')
  // The invite is copied with the Copy button and read back from the clipboard, as a person would paste it.
  await aliceContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(aliceHost.url).origin })
  alice = await aliceContext.newPage()
  bob = await (await browser.context('bob')).newPage()
  await Promise.all([alice.goto(aliceHost.url), bob.goto(bobHost.url)])
})

afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return
  failed = true
  await browser.keepEvidence(context.task.name)
  for (const host of hosts.values()) process.stderr.write(`--- ${host.name} output ---\n${host.output()}\n`)
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([...hosts.values()].map((h) => h.stop()))
  await rm(root, { recursive: true, force: true })
})

/** Each step needs the ones before it: after a failure the rest would only add noise. */
function step(name: string, fn: () => Promise<void>) {
  it(name, async (context) => {
    if (failed) context.skip()
    await fn()
  })
}

describe('two people chatting through the browser mode', () => {
  step('both onboard: name, passphrase, recovery phrase shown once and confirmed', async () => {
    // The launch code left the address bar as soon as the page took it.
    await alice.getByRole('button', { name: 'Create my identity' }).waitFor()
    expect(new URL(alice.url()).hash).toBe('')
    // The printed link worked once: opened again (in a fresh profile, as someone else would) it only says how to get a new one.
    const stranger = await (await browser.context('stranger')).newPage()
    await stranger.goto(hosts.get('alice')!.url)
    await stranger.getByRole('alert').filter({ hasText: 'This link was already used' }).filter({ hasText: 'npm start' }).waitFor()
    await expectAccessible(stranger, 'used launch link')
    await stranger.close()
    await onboard(alice, 'Alice', (screen) => expectAccessible(alice, screen))
    await onboard(bob, 'Bob')
    await expectAccessible(alice, 'conversation list (empty)')
  })

  step('alice creates a group and copies an invite link; bob joins by pasting it', async () => {
    await alice.getByRole('button', { name: 'New group' }).click()
    await alice.getByLabel('Group name').fill('Family')
    await expectAccessible(alice, 'new group dialog')
    await alice.getByRole('button', { name: 'Create group' }).click()
    const link = alice.getByLabel('Invite link')
    await link.waitFor()
    await alice.getByRole('img', { name: /QR code of the invite/ }).waitFor()
    await expectAccessible(alice, 'invite dialog')
    await alice.getByRole('button', { name: 'Copy link' }).click()
    await alice.getByText('Link copied.', { exact: false }).waitFor()
    const copied = await alice.evaluate(() => navigator.clipboard.readText())
    expect(copied).toBe(await link.inputValue())
    expect(copied).toMatch(/^hearth:\/\/j\//)
    await alice.getByRole('button', { name: 'Close' }).click()

    await bob.getByRole('button', { name: 'Join' }).click()
    await bob.getByLabel('Invite link').fill(copied)
    await expectAccessible(bob, 'join dialog')
    await bob.getByRole('dialog').getByRole('button', { name: 'Join' }).click()
    await bob.getByRole('heading', { name: 'Family', level: 2 }).waitFor({ timeout: 30_000 })
    await bob.getByText('2 members').waitFor({ timeout: 30_000 })
  })

  step('they write both ways and see delivered and read', async () => {
    await send(alice, 'Hello Bob, welcome to the family chat!')
    await messageRow(bob, 'Hello Bob, welcome to the family chat!').waitFor({ timeout: 30_000 })
    expect(await messageRow(bob, 'Hello Bob').locator('.author').textContent()).toBe('Alice')
    // Bob has the chat open and in view: Alice sees it read.
    await waitForState(alice, 'Hello Bob, welcome', ['read'])

    await send(bob, 'Hi Alice! Thanks for setting this up.')
    await messageRow(alice, 'Hi Alice! Thanks').waitFor({ timeout: 30_000 })
    await alice.getByText('2 members').waitFor()
    // Bob's device, nearby, now goes by his name.
    await alice.getByRole('region', { name: 'Nearby' }).getByText('Bob', { exact: true }).waitFor()
    await waitForState(bob, 'Hi Alice! Thanks', ['read'])

    // Bob looks at his settings, not the chat: what Alice writes now is delivered, and read once he comes back.
    await bob.getByRole('button', { name: 'Settings' }).click()
    await bob.getByRole('heading', { name: 'Settings' }).waitFor()
    await send(alice, 'Dinner on Sunday at 7?')
    await waitForState(alice, 'Dinner on Sunday', ['delivered'])
    await bob.getByRole('button', { name: /^Family.*, 1 unread$/ }).waitFor({ timeout: 30_000 })
    await expectAccessible(bob, 'settings')
    await openConversation(bob, 'Family')
    await waitForState(alice, 'Dinner on Sunday', ['read'])
    await send(bob, 'Sounds great, I will bring dessert.')
    await messageRow(alice, 'I will bring dessert').waitFor({ timeout: 30_000 })
    await expectAccessible(alice, 'chat')
    // The dark theme (from the system setting) meets the same bar.
    await alice.emulateMedia({ colorScheme: 'dark' })
    await expectAccessible(alice, 'chat, dark theme')
    await alice.emulateMedia({ colorScheme: 'light' })

    await alice.getByRole('button', { name: 'Members' }).click()
    await alice.getByRole('button', { name: 'Remove Bob' }).waitFor()
    await expectAccessible(alice, 'members dialog')
    await alice.getByRole('button', { name: 'Close' }).click()

    // The README's screenshot: the real UI, mid-conversation.
    await waitForState(alice, 'Dinner on Sunday', ['read'])
    const screenshot = process.env.HEARTH_UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs', 'screenshot-chat.png') : join(RESULTS_DIR, 'screenshot-chat.png')
    await alice.getByLabel(/^Message to /).fill('See you then')
    await alice.screenshot({ path: screenshot })
    await alice.getByLabel(/^Message to /).fill('')
  })

  step('a reloaded page still shows the history', async () => {
    await bob.reload()
    await openConversation(bob, 'Family')
    for (const text of ['Hello Bob, welcome', 'Hi Alice! Thanks', 'Dinner on Sunday', 'I will bring dessert']) {
      await messageRow(bob, text).waitFor()
    }
  })

  step('bob changes his name in settings: alice sees it on what he wrote before; alice makes him an admin', async () => {
    await bob.getByRole('button', { name: 'Settings' }).click()
    const name = bob.getByLabel('Display name')
    await expect.poll(() => name.inputValue(), { timeout: 10_000 }).toBe('Bob')
    await name.fill('Robert')
    await bob.getByRole('button', { name: 'Save name' }).click()
    await bob.getByText(/^Saved\./).waitFor({ timeout: 30_000 })
    await bob.locator('.me-name', { hasText: 'Robert' }).waitFor()
    await expectAccessible(bob, 'settings, name saved')

    await alice.locator('.message .author', { hasText: 'Robert' }).first().waitFor({ timeout: 30_000 })
    expect(await alice.locator('.message .author', { hasText: /^Bob$/ }).count()).toBe(0)
    await alice.getByRole('region', { name: 'Nearby' }).getByText('Robert', { exact: true }).waitFor()

    await alice.getByRole('button', { name: 'Members' }).click()
    await alice.getByRole('button', { name: 'Make admin: Robert' }).click()
    await alice.getByRole('button', { name: 'Make member: Robert' }).waitFor({ timeout: 30_000 })
    await alice.getByRole('button', { name: 'Step down as admin' }).waitFor()
    await expectAccessible(alice, 'members dialog, two admins')
    await alice.getByRole('button', { name: 'Close' }).click()
    await openConversation(bob, 'Family')
    await bob.getByRole('button', { name: 'Invite' }).waitFor({ timeout: 30_000 })
  })

  step("bob's core stops; alice keeps writing; it all arrives when bob is back", async () => {
    expect(await hosts.get('bob')!.stop()).toBe(0)
    await bob.getByRole('alert').filter({ hasText: 'This window lost its connection to Hearth' }).waitFor()
    // Alice sees Bob go: no one is reachable.
    await alice.locator('[data-connectivity="offline"]').waitFor({ timeout: 30_000 })
    await send(alice, 'Are you still there?')
    await send(alice, 'I sent this while you were away.')
    // Nobody has them yet: not delivered.
    expect(await waitForState(alice, 'while you were away', ['pending', 'sent'], 5_000)).not.toBe('delivered')

    await start('bob')
    // The open tab finds the restarted Hearth by itself (same port, same session token): no new link is needed.
    await unlock(bob, (screen) => expectAccessible(bob, screen))
    // The new name was written to the identity file: it is still his after the restart.
    await bob.locator('.me-name', { hasText: 'Robert' }).waitFor()
    await openConversation(bob, 'Family')
    await messageRow(bob, 'Are you still there?').waitFor({ timeout: 60_000 })
    await messageRow(bob, 'I sent this while you were away.').waitFor({ timeout: 30_000 })
    await waitForState(alice, 'while you were away', ['read'], 60_000)
    await alice.locator('[data-connectivity="online"]').waitFor()
    // And back the other way, on the restarted core.
    await send(bob, 'Back now!')
    await messageRow(alice, 'Back now!').waitFor({ timeout: 30_000 })
  })

  step('alice removes robert (the confirmation says what that means) and adds him back; reusable invites are a choice', async () => {
    await alice.getByRole('button', { name: 'Members' }).click()
    await alice.getByRole('button', { name: 'Remove Robert' }).click()
    const confirmRemove = alice.getByRole('group', { name: 'Remove Robert?' })
    await confirmRemove.getByText('no invite link can bring them back', { exact: false }).waitFor()
    await expectAccessible(alice, 'members dialog, confirm removal')
    await confirmRemove.getByRole('button', { name: 'Remove Robert' }).click()
    await alice.getByRole('region', { name: 'Removed' }).getByText('Robert').waitFor({ timeout: 30_000 })
    await alice.getByRole('button', { name: 'Add back: Robert' }).click()
    await alice.getByRole('group', { name: 'Add Robert back?' }).getByText('will be able to read new messages again', { exact: false }).waitFor()
    await expectAccessible(alice, 'members dialog, removed list and add-back confirmation')
    await alice.getByRole('button', { name: 'Add Robert back' }).click()
    // Back in the members list, under the name he last chose.
    await alice.getByRole('button', { name: 'Remove Robert' }).waitFor({ timeout: 30_000 })
    await alice.getByRole('region', { name: 'Removed' }).waitFor({ state: 'detached' })
    await alice.getByRole('button', { name: 'Close' }).click()

    await alice.getByRole('button', { name: 'Invite' }).click()
    // The invite made on opening works once; a reusable one is a choice with an expiry.
    await alice.getByText('Works once', { exact: false }).first().waitFor()
    await alice.getByRole('radio', { name: /Several people/ }).check()
    await alice.getByLabel('Expires after').selectOption({ label: '30 days' })
    await alice.getByRole('button', { name: 'New invite' }).click()
    await alice.getByText('Works for several people', { exact: false }).waitFor()
    await expectAccessible(alice, 'invite dialog, reusable link')
    await alice.getByRole('button', { name: 'Close' }).click()

    // Back in, he reads what is said next.
    await send(alice, 'Welcome back, Robert')
    await messageRow(bob, 'Welcome back, Robert').waitFor({ timeout: 60_000 })
  })
})
