/// <reference lib="dom" />
/**
 * Verifying a contact between two people, two cores and two browser windows (browser mode): Alice opens the member
 * list, opens Bob's safety number (the same 60 digits Bob sees for her), marks him verified and sees the mark in the
 * list; then she shows her recovery phrase again in Settings after typing her passphrase. axe-core checks the verify
 * dialog, the member list with the mark, and the account section with the phrase shown.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect } from 'vitest'
import { familyOfTwo, twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, PASSPHRASE } from '../helpers/e2e-ui.js'

const people = twoPeople('verify')
const step = people.step.bind(people)
let alice: Page
let bob: Page

beforeAll(() => {
  alice = people.alice
  bob = people.bob
})

const dialog = (page: Page) => page.getByRole('dialog')
const verifying = (page: Page, name: string) => page.getByRole('dialog', { name: `Verify ${name}` })
const members = (page: Page) => page.getByRole('dialog', { name: 'Members of Family' })
const digitsIn = async (page: Page, name: string) => (await verifying(page, name).locator('.safety-number').innerText()).replace(/\s+/g, '')

describe('verifying a contact', () => {
  step('both onboard; alice creates Family and bob joins', async () => {
    await familyOfTwo(alice, bob)
  })

  step('alice verifies bob from the member list: same digits on both screens, then the verified mark', async () => {
    await alice.getByRole('button', { name: 'Members' }).click()
    await alice.getByRole('button', { name: 'Verify: Bob' }).click({ timeout: 30_000 })
    await verifying(alice, 'Bob').getByText('Bob is not verified yet.').waitFor({ timeout: 30_000 })

    await bob.getByRole('button', { name: 'Members' }).click()
    await bob.getByRole('button', { name: 'Verify: Alice' }).click({ timeout: 30_000 })
    await verifying(bob, 'Alice').getByText('Alice is not verified yet.').waitFor({ timeout: 30_000 })
    const aliceSees = await digitsIn(alice, 'Bob')
    expect(aliceSees).toMatch(/^[0-9]{60}$/)
    expect(await digitsIn(bob, 'Alice')).toBe(aliceSees)
    await expectAccessible(alice, 'the verify dialog')

    await verifying(alice, 'Bob').getByRole('button', { name: 'The numbers match: mark as verified' }).click()
    await verifying(alice, 'Bob').getByText('✓ You have verified Bob.').waitFor({ timeout: 30_000 })
    await verifying(alice, 'Bob').getByRole('button', { name: 'Close' }).click()
    await verifying(alice, 'Bob').waitFor({ state: 'detached' })

    // Back in the member list: Bob carries the mark; Bob's own view of Alice is untouched.
    const bobRow = members(alice).getByRole('listitem').filter({ hasText: 'Bob' })
    await bobRow.getByText(/✓ verified/).waitFor({ timeout: 30_000 })
    await expectAccessible(alice, 'the member list with a verified member')
    expect(await verifying(bob, 'Alice').getByText('Alice is not verified yet.').count()).toBe(1)
  })

  step('alice shows her recovery phrase again in Settings after typing her passphrase', async () => {
    await members(alice).getByRole('button', { name: 'Close' }).click()
    await dialog(alice).waitFor({ state: 'detached', timeout: 10_000 })
    await alice.getByRole('button', { name: 'Settings' }).click()
    await alice.getByRole('button', { name: 'Show recovery phrase' }).click({ timeout: 30_000 })
    await alice.getByLabel('Your passphrase').fill('not my passphrase')
    await alice.getByRole('button', { name: 'Show', exact: true }).click()
    await alice.getByText('That is not your current passphrase. The recovery phrase was not shown.').waitFor({ timeout: 30_000 })
    await alice.getByLabel('Your passphrase').fill(PASSPHRASE)
    await alice.getByRole('button', { name: 'Show', exact: true }).click()
    const phrase = alice.getByRole('list', { name: 'Recovery phrase' })
    await phrase.waitFor({ timeout: 30_000 })
    expect(await phrase.locator('.phrase-word').count()).toBe(24)
    await expectAccessible(alice, 'the account section with the recovery phrase shown')
  })
})
