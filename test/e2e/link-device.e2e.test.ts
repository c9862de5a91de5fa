/// <reference lib="dom" />
/**
 * Linking a second device of one account, between two browser-mode hosts in two browser windows: Alice, who already
 * uses Hearth with a group, opens Settings → Devices → "Link a new device" and types the code her new device's
 * onboarding shows ("I already use Hearth"); both screens show the same 6 digits, both accept, and the new device
 * opens on Alice's group with its messages. Then Alice revokes it, and the new device's page says it was unlinked.
 * axe-core checks every new screen; screenshots go to test-results/.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect } from 'vitest'
import { RESULTS_DIR } from '../helpers/e2e-browser.js'
import { twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, messageRow, onboard, openConversation, PASSPHRASE, send } from '../helpers/e2e-ui.js'

const people = twoPeople('link')
const step = people.step.bind(people)
let alice: Page
let laptop: Page

beforeAll(() => {
  alice = people.alice
  laptop = people.bob
})

const linkDialog = (page: Page) => page.getByRole('dialog', { name: 'Link a new device' })
const digits = async (page: Page) => (await page.getByTestId('link-digits').innerText()).trim()
const shot = (page: Page, name: string) => page.screenshot({ path: join(RESULTS_DIR, `link-device-${name}.png`), fullPage: true })

describe('linking a second device, and revoking it', () => {
  step('alice onboards, creates Family and writes in it', async () => {
    await onboard(alice, 'Alice')
    await alice.getByRole('button', { name: 'New group' }).click()
    await alice.getByLabel('Group name').fill('Family')
    await alice.getByRole('button', { name: 'Create group' }).click()
    // The invite dialog opens once the group exists: close that one, not the form before it.
    await alice.getByLabel('Invite link').waitFor({ timeout: 30_000 })
    await alice.getByRole('button', { name: 'Close' }).click()
    await alice.getByRole('heading', { name: 'Family', level: 2 }).waitFor()
    await send(alice, 'Hello from the phone')
  })

  step('the new device: "I already use Hearth", its passphrase, then its code with a QR and a countdown', async () => {
    await laptop.getByRole('button', { name: 'I already use Hearth' }).click()
    await laptop.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE)
    await laptop.getByLabel('Passphrase again').fill(PASSPHRASE)
    await expectAccessible(laptop, 'onboarding: link this device')
    await laptop.getByRole('button', { name: 'Show my code' }).click()
    await laptop.getByRole('heading', { name: 'Your link code' }).waitFor({ timeout: 30_000 })
    await laptop.getByRole('img', { name: 'QR code of this device’s link code' }).waitFor()
    await laptop.getByText(/This code works for \d+:\d\d more, once\./).waitFor()
    await expectAccessible(laptop, 'onboarding: the link code')
    await shot(laptop, 'code')
  })

  step('alice types that code in Settings → Devices; both screens show the same 6 digits; both accept', async () => {
    const code = await laptop.getByLabel('Link code', { exact: true }).innerText()
    await alice.getByRole('button', { name: 'Settings' }).click()
    await alice.getByRole('button', { name: 'Link a new device' }).click({ timeout: 30_000 })
    await expectAccessible(alice, 'the link dialog')
    await linkDialog(alice).getByLabel('Code shown on the new device').fill(code)
    await linkDialog(alice).getByRole('button', { name: 'Link device' }).click()

    await alice.getByTestId('link-digits').waitFor({ timeout: 30_000 })
    await laptop.getByTestId('link-digits').waitFor({ timeout: 30_000 })
    const shown = await digits(alice)
    expect(shown).toMatch(/^\d{3} \d{3}$/)
    expect(await digits(laptop)).toBe(shown)
    await expectAccessible(alice, 'the link dialog: compare the digits')
    await expectAccessible(laptop, 'onboarding: compare the digits')
    await shot(alice, 'digits-existing')
    await shot(laptop, 'digits-new')

    await laptop.getByRole('button', { name: 'They match' }).click()
    await linkDialog(alice).getByRole('button', { name: 'Match', exact: true }).click()
    await linkDialog(alice).getByText(/^Linked\./).waitFor({ timeout: 60_000 })
    await expectAccessible(alice, 'the link dialog: linked')
    await linkDialog(alice).getByRole('button', { name: 'Done' }).click()
  })

  step('the new device opens on Family with what alice wrote there', async () => {
    await laptop.getByRole('button', { name: 'New group' }).waitFor({ timeout: 60_000 })
    await openConversation(laptop, 'Family')
    await messageRow(laptop, 'Hello from the phone').waitFor({ timeout: 60_000 })
    // Once the history is all there, nothing says it is still arriving (history/history-progress.ts).
    await laptop.getByText(/^Getting history…/).first().waitFor({ state: 'detached', timeout: 30_000 })
    await expect.poll(() => laptop.getByRole('progressbar').count(), { timeout: 30_000 }).toBe(0)
    await shot(laptop, 'linked')
    // Alice's device list has it, online.
    const devices = alice.getByRole('list', { name: 'Your devices' })
    await devices.getByRole('listitem').nth(1).getByText('Online now').waitFor({ timeout: 30_000 })
    await expectAccessible(alice, 'Settings → Devices with a linked device')
  })

  step('alice revokes it; the new device says it was unlinked and starts over', async () => {
    const devices = alice.getByRole('list', { name: 'Your devices' })
    await devices.getByRole('button', { name: /^Revoke / }).click()
    const confirm = alice.getByRole('dialog', { name: /^Revoke .*\?$/ })
    await confirm.getByText(/stops reading anything new/).waitFor()
    await expectAccessible(alice, 'the revoke confirmation')
    await shot(alice, 'revoke')
    await confirm.getByRole('button', { name: 'Revoke device' }).click()
    await alice.getByText(/was revoked\. It wipes itself when it next connects\./).waitFor({ timeout: 30_000 })
    await expect.poll(() => devices.getByRole('listitem').count(), { timeout: 30_000 }).toBe(1)

    await laptop.getByText(/^This device was unlinked by another of your devices/).waitFor({ timeout: 60_000 })
    await laptop.getByRole('button', { name: 'I already use Hearth' }).waitFor()
    await expectAccessible(laptop, 'onboarding after being unlinked')
    await shot(laptop, 'unlinked')
  })
})
