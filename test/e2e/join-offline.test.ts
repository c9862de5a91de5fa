/// <reference lib="dom" />
/**
 * Joining while the inviter sleeps (docs/adr/0027-joining-through-a-relay.md), end to end in the browser mode: a real
 * relay process, Alice and Bob each a Hearth host (its own data dir and ports, mDNS off) in its own Chromium context.
 * Both add the relay in Settings; Alice creates a group, copies the long invite link (the one that names the relay) and
 * her Hearth stops. Bob joins with the link: the join does not fail, it waits ("Waiting for the group to let you in"),
 * and the conversation opens as a pending join with a way to cancel it (checked with axe-core). Alice's Hearth starts
 * again on the same data dir; once she unlocks it, her first relay pass lets Bob in, and what she writes reaches him.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { decodeInvite } from '../../node/src/conversation/invite-code.js'
import { launchBrowser, type E2eBrowser } from '../helpers/e2e-browser.js'
import { buildUi, freePort, startHost, type HostOptions, type HostProcess } from '../helpers/e2e-hosts.js'
import { expectAccessible, messageRow, onboard, openConversation, send, unlock } from '../helpers/e2e-ui.js'
import { removeRelayDir, spawnRelay, type RelayProcess } from '../helpers/relay.js'

let root: string
let browser: E2eBrowser
let relay: RelayProcess | undefined
const hosts = new Map<string, HostProcess>()
const options = new Map<string, HostOptions>()
let alice: Page
let bob: Page
let failed = false
let invite = ''

async function start(name: string): Promise<HostProcess> {
  const host = await startHost(name, options.get(name)!)
  hosts.set(name, host)
  return host
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Conversations' })
const WAITING = 'Waiting for the group to let you in'

/** Settings → Relays → Add: the relay is saved and listed. */
async function addRelay(page: Page, address: string): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click()
  await page.getByRole('heading', { name: 'Settings' }).waitFor()
  await page.getByLabel('Add a relay').fill(address)
  await page.getByRole('button', { name: 'Add', exact: true }).click()
  await page.getByRole('list', { name: 'Relays' }).getByText(address).waitFor({ timeout: 30_000 })
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-e2e-join-offline-'))
  await buildUi()
  relay = await spawnRelay()
  for (const name of ['alice', 'bob']) {
    options.set(name, { dataDir: join(root, name), uiPort: await freePort(), listenPort: await freePort() })
  }
  const [aliceHost, bobHost] = await Promise.all([start('alice'), start('bob')])
  browser = await launchBrowser()
  const aliceContext = await browser.context('alice')
  // The long link is copied with its button and read back from the clipboard, as a person would paste it.
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
  if (relay !== undefined) process.stderr.write(`--- relay output ---\n${relay.stderr.join('')}\n${relay.logs.slice(-200).join('\n')}\n`)
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([...hosts.values()].map((h) => h.stop()))
  if (relay !== undefined) {
    await relay.stop()
    await removeRelayDir(relay)
  }
  await rm(root, { recursive: true, force: true })
})

/** Each step needs the ones before it: after a failure the rest would only add noise. Generous: the machine is shared. */
function step(name: string, fn: () => Promise<void>) {
  it(
    name,
    async (context) => {
      if (failed) context.skip()
      await fn()
    },
    300_000,
  )
}

describe('joining while the inviter sleeps, through a relay', () => {
  step('both onboard and add the relay in Settings', async () => {
    await Promise.all([onboard(alice, 'Alice'), onboard(bob, 'Bob')])
    await Promise.all([addRelay(alice, relay!.address), addRelay(bob, relay!.address)])
    await Promise.all([alice, bob].map((page) => page.getByRole('button', { name: 'Done' }).click()))
  })

  step('alice creates a group, copies the long link (it names the relay) and her Hearth stops', async () => {
    await alice.getByRole('button', { name: 'New group' }).click()
    await alice.getByLabel('Group name').fill('Family')
    await alice.getByRole('button', { name: 'Create group' }).click()
    await alice.getByLabel('Invite link').waitFor({ timeout: 30_000 })
    await alice.getByRole('button', { name: 'Copy long link' }).click()
    await alice.getByText('Long link copied.', { exact: false }).waitFor()
    invite = await alice.evaluate(() => navigator.clipboard.readText())
    expect(invite).toMatch(/^hearth:\/\/join\//)
    expect(decodeInvite(invite).relays).toContain(relay!.address)
    await alice.getByRole('button', { name: 'Close' }).click()

    // Her group is on the relay before she goes: Settings says the relay is working.
    await alice.getByRole('button', { name: 'Settings' }).click()
    await alice.getByRole('list', { name: 'Relays' }).locator('[data-relay-state="ok"]').waitFor({ timeout: 60_000 })
    await alice.getByRole('button', { name: 'Done' }).click()

    expect(await hosts.get('alice')!.stop()).toBe(0)
    await alice.getByRole('alert').filter({ hasText: 'This window lost its connection to Hearth' }).waitFor()
  })

  step('bob joins with the link: no error, the group waits in his list and opens as a pending join (axe)', async () => {
    await bob.getByRole('button', { name: 'Join' }).click()
    await bob.getByLabel('Invite link or code').fill(invite)
    await bob.getByRole('dialog').getByRole('button', { name: 'Join' }).click()
    // The dialog closes on its own (no one answered directly, so the request went to the relay), with no error.
    await bob.getByRole('dialog').waitFor({ state: 'detached', timeout: 60_000 })
    expect(await bob.getByRole('alert').count()).toBe(0)

    const row = nav(bob).getByRole('button', { name: /^Family/ })
    await row.waitFor({ timeout: 30_000 })
    await row.getByText(WAITING, { exact: false }).waitFor({ timeout: 30_000 })

    await openConversation(bob, 'Family')
    const pending = bob.locator('section.pending-join')
    await pending.getByRole('status').filter({ hasText: WAITING }).waitFor()
    await pending.getByText('You can close Hearth meanwhile', { exact: false }).waitFor()
    await pending.getByRole('button', { name: 'Cancel the request' }).waitFor()
    // Nothing to write into yet.
    expect(await bob.getByLabel(/^Message to /).count()).toBe(0)
    await expectAccessible(bob, 'a pending join')
  })

  step("alice's Hearth starts again: once she unlocks it, bob is let in and reads what she writes", async () => {
    await start('alice')
    // The open tab finds the restarted Hearth by itself (same port, same session token).
    await unlock(alice)
    await openConversation(alice, 'Family')

    // Bob's open pending join turns into the chat: the list no longer says he waits.
    await nav(bob).getByText(WAITING, { exact: false }).waitFor({ state: 'detached', timeout: 60_000 })
    await bob.getByLabel(/^Message to /).waitFor({ timeout: 30_000 })
    await bob.getByRole('heading', { name: 'Family', level: 2 }).waitFor()
    await bob.getByText('2 members').waitFor({ timeout: 30_000 })
    await alice.getByText('2 members').waitFor({ timeout: 60_000 })

    await send(alice, 'Welcome, Bob! Sorry, I was asleep.')
    await messageRow(bob, 'Welcome, Bob! Sorry, I was asleep.').waitFor({ timeout: 60_000 })
    expect(await messageRow(bob, 'Welcome, Bob!').locator('.author').textContent()).toBe('Alice')
  })
})
