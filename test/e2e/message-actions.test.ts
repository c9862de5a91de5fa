/// <reference lib="dom" />
/**
 * What people do with messages once they are there, between two people in two Chromium windows on two cores in the
 * browser mode: a reply with its quote, a reaction and a change of it (from the full picker, by keyboard), an edit seen
 * by the other with "edited" and its versions, who has seen a message, delete for everyone and delete for me, and a
 * link that opens outside the app. axe-core checks the message menu, the picker, the details and the confirmation.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect } from 'vitest'
import { RESULTS_DIR, ROOT } from '../helpers/e2e-browser.js'
import { familyOfTwo, twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, messageRow, send, waitForState } from '../helpers/e2e-ui.js'

const people = twoPeople('actions', { aliceClipboard: true })
const step = people.step.bind(people)
let alice: Page
let bob: Page

const ORIGINAL = 'Dinner on Sunday at 7?'
const EDITED = 'Dinner on Sunday at 8?'
const REPLY = 'Yes! I will bring dessert.'
const LINK_TEXT = 'The menu is at https://example.org/menu?day=sunday.'

beforeAll(() => {
  alice = people.alice
  bob = people.bob
})

/** Opens a message's actions menu the way a pointer user does: hover, then its ⋯ button. */
async function openMenu(page: Page, text: string) {
  const row = messageRow(page, text)
  await row.hover()
  await row.getByRole('button', { name: /^Actions for/ }).click()
  const menu = page.getByRole('menu')
  await menu.waitFor()
  return menu
}

async function choose(page: Page, text: string, item: string) {
  await (await openMenu(page, text)).getByRole('menuitem', { name: item }).click()
}

function chip(page: Page, text: string, name: string) {
  return messageRow(page, text).getByRole('group', { name: 'Reactions' }).getByRole('button', { name })
}

describe('message actions between two people', () => {
  step('both onboard; bob joins alice’s group', async () => {
    await familyOfTwo(alice, bob)
  })

  step('bob replies from the menu; both see the quote, which leads to the original', async () => {
    await send(alice, ORIGINAL)
    await messageRow(bob, ORIGINAL).waitFor({ timeout: 30_000 })
    // The menu by keyboard: Tab reaches the ⋯ button inside the message, arrows move, Escape gives focus back.
    const button = messageRow(bob, ORIGINAL).getByRole('button', { name: 'Actions for Alice’s message' })
    await button.focus()
    await bob.keyboard.press('Enter')
    await expect.poll(() => bob.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('menuitem')
    await expectAccessible(bob, 'message menu')
    await bob.keyboard.press('Escape')
    await expect.poll(() => button.evaluate((b) => b === document.activeElement)).toBe(true)

    await choose(bob, ORIGINAL, 'Reply')
    await bob.getByText('Replying to Alice', { exact: false }).waitFor()
    const composer = bob.getByLabel(/^Message to /)
    await composer.fill(REPLY)
    await composer.press('Enter')
    for (const page of [bob, alice]) {
      const quote = messageRow(page, REPLY).locator('.quote')
      await quote.waitFor({ timeout: 30_000 })
      expect(await quote.locator('.quote-author').textContent()).toBe('Alice')
      expect(await quote.locator('.quote-body').textContent()).toBe(ORIGINAL)
    }
    await messageRow(alice, REPLY).getByRole('button', { name: /^Reply to Alice/ }).click()
    await messageRow(alice, ORIGINAL).and(alice.locator('.highlighted')).waitFor()
  })

  step('bob reacts, then changes his reaction from the full picker by keyboard; alice sees each', async () => {
    await choose(bob, ORIGINAL, 'React…')
    const picker = bob.getByRole('dialog', { name: 'React' })
    await picker.getByRole('gridcell').first().waitFor()
    await expectAccessible(bob, 'reaction picker')
    await picker.getByRole('button', { name: 'Thumbs up' }).click()
    await chip(alice, ORIGINAL, '👍 1').waitFor({ timeout: 30_000 })
    expect(await chip(bob, ORIGINAL, '👍 1').getAttribute('aria-pressed')).toBe('true')

    await choose(bob, ORIGINAL, 'React…')
    // Focus starts in the search field; the arrows go into the results, Enter picks.
    await expect.poll(() => bob.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Search emoji')
    await bob.keyboard.type('partying face')
    const partying = picker.getByRole('gridcell', { name: 'Partying face' })
    await partying.waitFor()
    await bob.keyboard.press('ArrowRight')
    // As a person would, Enter once the highlight is on it.
    await expect.poll(() => partying.getAttribute('data-active')).toBe('')
    await bob.keyboard.press('Enter')
    await chip(alice, ORIGINAL, '🥳 1').waitFor({ timeout: 30_000 })
    await chip(alice, ORIGINAL, '👍 1').waitFor({ state: 'detached' })
    // Who reacted, on hover.
    await chip(alice, ORIGINAL, '🥳 1').hover()
    await alice.getByRole('tooltip').filter({ hasText: 'Bob' }).waitFor()
    // Alice's own heart next to it.
    await choose(alice, ORIGINAL, 'React…')
    await alice.getByRole('dialog', { name: 'React' }).getByRole('button', { name: 'Red heart' }).click()
    await chip(bob, ORIGINAL, '❤️ 1').waitFor({ timeout: 30_000 })
  })

  step('alice edits her message; bob sees it with "edited", the new text in his quote, and both versions', async () => {
    await choose(alice, ORIGINAL, 'Edit')
    const composer = alice.getByLabel(/^Message to /)
    await expect.poll(() => composer.inputValue()).toBe(ORIGINAL)
    await composer.fill(EDITED)
    await composer.press('Enter')
    const edited = messageRow(bob, EDITED)
    await edited.waitFor({ timeout: 30_000 })
    await messageRow(bob, REPLY).locator('.quote-body', { hasText: EDITED }).waitFor({ timeout: 30_000 })
    await edited.getByRole('button', { name: 'Edited: see the versions' }).click()
    const details = bob.getByRole('dialog', { name: 'Message details' })
    const history = details.getByRole('region', { name: 'Edit history' })
    await history.locator('li').nth(1).waitFor()
    expect(await history.locator('.version-body').allTextContents()).toEqual([ORIGINAL, EDITED])
    await expectAccessible(bob, 'message details with versions')
    await details.getByRole('button', { name: 'Close' }).click()
  })

  step('details of alice’s message say bob has read it', async () => {
    await waitForState(alice, EDITED, ['read'])
    await choose(alice, EDITED, 'Details')
    const details = alice.getByRole('dialog', { name: 'Message details' })
    await details.getByRole('region', { name: 'Read by' }).getByText('Bob').waitFor()
    await expectAccessible(alice, 'message details')
    await details.getByRole('button', { name: 'Close' }).click()
  })

  step('a link opens outside the app', async () => {
    await send(alice, LINK_TEXT)
    const link = messageRow(bob, 'The menu is at').getByRole('link')
    await link.waitFor({ timeout: 30_000 })
    expect(await link.getAttribute('href')).toBe('https://example.org/menu?day=sunday')
    expect(await link.getAttribute('target')).toBe('_blank')
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer')
    // The full stop after it is the sentence's, not the address's.
    expect(await link.textContent()).toBe('https://example.org/menu?day=sunday')
  })

  step('alice deletes a message for everyone (after a confirmation that says so); bob sees it was deleted', async () => {
    await send(alice, 'Oops, wrong chat')
    await messageRow(bob, 'Oops, wrong chat').waitFor({ timeout: 30_000 })
    await choose(alice, 'Oops, wrong chat', 'Delete for everyone…')
    const confirm = alice.getByRole('dialog', { name: 'Delete for everyone?' })
    await confirm.getByText('for everyone in this chat', { exact: false }).waitFor()
    await expectAccessible(alice, 'delete for everyone confirmation')
    await confirm.getByRole('button', { name: 'Delete for everyone' }).click()
    await messageRow(alice, 'This message was deleted').waitFor()
    await messageRow(bob, 'This message was deleted').waitFor({ timeout: 30_000 })
    expect(await messageRow(bob, 'Oops, wrong chat').count()).toBe(0)
    const menu = await openMenu(bob, 'This message was deleted')
    expect(await menu.getByRole('menuitem').allTextContents()).toEqual(['Delete for me'])
    await bob.keyboard.press('Escape')
  })

  step('the screen shows it all (a reply, reactions, an edited and a deleted message)', async () => {
    await alice.mouse.move(0, 0)
    const screenshot =
      process.env.HEARTH_UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs', 'screenshot-message-actions.png') : join(RESULTS_DIR, 'screenshot-message-actions.png')
    await alice.screenshot({ path: screenshot })
    await expectAccessible(alice, 'chat with a reply, reactions, an edited and a deleted message')
    await alice.emulateMedia({ colorScheme: 'dark' })
    await expectAccessible(alice, 'chat with a reply, reactions, an edited and a deleted message, dark theme')
    await alice.emulateMedia({ colorScheme: 'light' })
  })

  step('bob deletes a message for himself: gone from his screen, still on alice’s', async () => {
    await choose(bob, 'The menu is at', 'Delete for me')
    await messageRow(bob, 'The menu is at').waitFor({ state: 'detached' })
    await bob.reload()
    await bob.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: /^Family/ }).click()
    await messageRow(bob, REPLY).waitFor()
    expect(await messageRow(bob, 'The menu is at').count()).toBe(0)
    expect(await messageRow(alice, 'The menu is at').count()).toBe(1)
  })

  step('alice, the admin, deletes bob’s message for everyone after a warning naming him; both see an admin deleted it', async () => {
    await send(bob, 'Buy cheap watches here')
    await messageRow(alice, 'Buy cheap watches here').waitFor({ timeout: 30_000 })
    const menu = await openMenu(alice, 'Buy cheap watches here')
    await menu.getByRole('menuitem', { name: 'Delete for everyone…' }).click()
    const confirm = alice.getByRole('dialog', { name: 'Delete Bob’s message for everyone?' })
    await confirm.getByText('for everyone in this group', { exact: false }).waitFor()
    await expectAccessible(alice, 'admin delete confirmation')
    await confirm.getByRole('button', { name: 'Delete for everyone' }).click()
    await messageRow(alice, 'Deleted by an admin').waitFor()
    await messageRow(bob, 'Deleted by an admin').waitFor({ timeout: 30_000 })
    expect(await messageRow(bob, 'Buy cheap watches here').count()).toBe(0)
  })
})
