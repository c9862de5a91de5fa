/// <reference lib="dom" />
/**
 * Open, and who received a file, between two people in browser mode: Alice sends a text file and an HTML page; Bob
 * opens the text file in a tab of its own (plain text, no way back to the app) and, after a warning, the HTML page,
 * which shows as its source (text/plain), never as a page. Alice's cards say Bob received both. axe-core checks the
 * warning and Alice's receipts.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { familyOfTwo, twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, messageRow } from '../helpers/e2e-ui.js'

const people = twoPeople('file-open')
const step = people.step.bind(people)
let alice: Page
let bob: Page
let files = ''

const NOTES = 'Shopping list\n- bread\n- milk\n'
const PAGE = '<!doctype html><title>hi</title><script>document.title = "ran"</script><p>hello</p>\n'

beforeAll(async () => {
  alice = people.alice
  bob = people.bob
  files = await mkdtemp(join(tmpdir(), 'hearth-e2e-open-'))
  await writeFile(join(files, 'notes.txt'), NOTES)
  await writeFile(join(files, 'page.html'), PAGE)
})

afterAll(async () => {
  if (files !== '') await rm(files, { recursive: true, force: true })
})

describe('opening a file, and who received it', () => {
  step('both onboard; alice creates Family and bob joins', async () => {
    await familyOfTwo(alice, bob)
  })

  step('alice sends a text file and an HTML page', async () => {
    await alice.locator('input[type="file"]').setInputFiles([join(files, 'notes.txt'), join(files, 'page.html')])
    await alice.getByRole('list', { name: 'Files to send' }).getByText('page.html').waitFor()
    const composer = alice.getByLabel(/^Message to /)
    await composer.fill('Two files')
    await composer.press('Enter')
    await messageRow(alice, 'Two files').getByRole('button', { name: 'Open notes.txt' }).waitFor({ timeout: 30_000 })
  })

  step('bob opens the text file: a tab of its own shows it as plain text, with no way back to the app', async () => {
    const row = messageRow(bob, 'Two files')
    const open = row.getByRole('button', { name: 'Open notes.txt' })
    await open.waitFor({ timeout: 60_000 })
    const [tab] = await Promise.all([bob.context().waitForEvent('page'), open.click()])
    await tab.waitForURL(/^blob:/, { timeout: 30_000 })
    await tab.waitForLoadState()
    expect(await tab.evaluate(() => document.contentType)).toBe('text/plain')
    expect((await tab.evaluate(() => document.body.innerText)).trim()).toBe(NOTES.trim())
    expect(await tab.evaluate(() => window.opener)).toBeNull()
    await tab.close()
  })

  step('the HTML page opens only after a warning, and then as its source: its script never runs', async () => {
    const row = messageRow(bob, 'Two files')
    await row.getByRole('button', { name: 'Open page.html' }).click()
    const warning = bob.getByRole('dialog', { name: 'Open a file that can run programs?' })
    await warning.waitFor()
    await expectAccessible(bob, 'the warning before opening a risky file')
    const [tab] = await Promise.all([bob.context().waitForEvent('page'), warning.getByRole('button', { name: 'Continue' }).click()])
    await tab.waitForURL(/^blob:/, { timeout: 30_000 })
    await tab.waitForLoadState()
    expect(await tab.evaluate(() => document.contentType)).toBe('text/plain')
    expect(await tab.evaluate(() => document.title)).not.toBe('ran')
    expect((await tab.evaluate(() => document.body.innerText)).trim()).toBe(PAGE.trim())
    await tab.close()
  })

  step('alice’s cards say bob received both files, and who, in a disclosure', async () => {
    const row = messageRow(alice, 'Two files')
    const summaries = row.getByText('Received by 1 of 1')
    await expect.poll(() => summaries.count(), { timeout: 30_000 }).toBe(2)
    await summaries.first().click()
    await row.getByRole('list', { name: 'Who received notes.txt' }).getByText('Bob · received').waitFor()
    await expectAccessible(alice, 'who received a file')
  })
})
