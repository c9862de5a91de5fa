/// <reference lib="dom" />
/**
 * Starting a direct chat from Nearby, and a conversation's own settings, between two people, two cores and two browser
 * windows (browser mode): Alice picks Bob under Nearby, Bob sees "Alice wants to chat" and accepts; in the same step
 * both are offered to compare their safety numbers (the same 60 digits on both screens), Bob says they match and Alice
 * "not now", each chat opens and only Bob's member list carries the mark; they talk in the direct chat. Then Alice
 * mutes, pins and archives from a conversation's menu, by keyboard and pointer, and what Bob writes into a muted,
 * archived conversation stays there (counted, not brought back). axe-core checks the request prompt, the same-step
 * safety number check (screenshot in test-results/), the menu and its submenu, and the archived list.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect } from 'vitest'
import { RESULTS_DIR } from '../helpers/e2e-browser.js'
import { familyOfTwo, twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, messageRow, send } from '../helpers/e2e-ui.js'

const people = twoPeople('nearby')
const step = people.step.bind(people)
let alice: Page
let bob: Page

beforeAll(() => {
  alice = people.alice
  bob = people.bob
})

const nav = (page: Page) => page.getByRole('navigation', { name: 'Conversations' })
const nearby = (page: Page) => page.getByRole('region', { name: 'Nearby' })
/** A conversation's row button (its name starts the accessible name; the options button's does not). */
const row = (page: Page, name: string | RegExp) => nav(page).getByRole('button', { name: typeof name === 'string' ? new RegExp(`^${name}`) : name })
const rowNames = (page: Page) => nav(page).locator('.conversation .conversation-name').allInnerTexts()
const checking = (page: Page, name: string) => page.getByRole('dialog', { name: `Compare safety numbers with ${name}` })
const digitsIn = async (panel: ReturnType<typeof checking>) => (await panel.locator('.safety-number').innerText()).replace(/\s+/g, '')

describe('a chat started from Nearby, and mute, pin and archive', () => {
  step('both onboard; alice creates a group and bob joins (so their devices are connected)', async () => {
    await familyOfTwo(alice, bob)
    await nearby(alice).getByRole('button', { name: 'Bob' }).waitFor({ timeout: 30_000 })
  })

  step('alice picks bob under Nearby; bob sees "Alice wants to chat" and accepts', async () => {
    await nearby(alice).getByRole('button', { name: 'Bob' }).click()
    await nearby(alice).getByText('Request sent').waitFor({ timeout: 30_000 })
    const prompt = nearby(bob).getByRole('group', { name: 'Chat request from Alice' })
    await prompt.waitFor({ timeout: 30_000 })
    expect(await prompt.innerText()).toContain('Alice wants to chat')
    await expectAccessible(bob, 'a chat request')
    await prompt.getByRole('button', { name: 'Accept' }).click()
    await prompt.waitFor({ state: 'detached', timeout: 30_000 })
    // The request is answered on alice's side once bob is in.
    await nearby(alice).getByText('Request sent').waitFor({ state: 'detached', timeout: 30_000 })
  })

  step('in the same step both are offered to compare safety numbers: the same 60 digits; bob says they match, alice not now', async () => {
    const bobChecks = checking(bob, 'Alice')
    const aliceChecks = checking(alice, 'Bob')
    await bobChecks.getByRole('img', { name: 'Your code for Alice to scan' }).waitFor({ timeout: 30_000 })
    await aliceChecks.getByRole('img', { name: 'Your code for Bob to scan' }).waitFor({ timeout: 30_000 })
    const bobSees = await digitsIn(bobChecks)
    expect(bobSees).toMatch(/^[0-9]{60}$/)
    expect(await digitsIn(aliceChecks)).toBe(bobSees)
    expect(await bobChecks.innerText()).toContain('You’re next to each other: compare your safety numbers now.')
    await expectAccessible(bob, 'the same-step safety number check')
    await bob.screenshot({ path: join(RESULTS_DIR, 'nearby-verify.png') })

    await bobChecks.getByRole('button', { name: 'They match' }).click()
    await bobChecks.waitFor({ state: 'detached', timeout: 30_000 })
    // The chat opens once the check is done, its composer ready.
    await bob.getByRole('heading', { name: 'Alice', level: 2 }).waitFor({ timeout: 30_000 })
    const focusedLabel = () => bob.evaluate(() => (document.activeElement instanceof HTMLTextAreaElement ? (document.activeElement.labels?.[0]?.textContent ?? '') : ''))
    await expect.poll(focusedLabel).toMatch(/^Message to Alice/)
    await send(bob, 'Hi Alice, from across the room')

    await aliceChecks.getByRole('button', { name: 'Not now' }).click()
    await aliceChecks.waitFor({ state: 'detached', timeout: 30_000 })
    await alice.getByRole('heading', { name: 'Bob', level: 2 }).waitFor({ timeout: 30_000 })
    await messageRow(alice, 'Hi Alice, from across the room').waitFor({ timeout: 30_000 })
  })

  step('bob’s member list marks alice verified; alice’s marks nobody (she said not now)', async () => {
    await bob.getByRole('button', { name: 'Members' }).click()
    await bob.getByRole('dialog', { name: 'Members of Alice' }).getByRole('listitem').filter({ hasText: 'Alice' }).getByText(/✓ verified/).waitFor({ timeout: 30_000 })
    await bob.getByRole('dialog', { name: 'Members of Alice' }).getByRole('button', { name: 'Close' }).click()
    await alice.getByRole('button', { name: 'Members' }).click()
    const aliceList = alice.getByRole('dialog', { name: 'Members of Bob' })
    await aliceList.getByRole('listitem').filter({ hasText: 'Bob' }).waitFor({ timeout: 30_000 })
    expect(await aliceList.getByText(/✓ verified/).count()).toBe(0)
    await aliceList.getByRole('button', { name: 'Close' }).click()
    await aliceList.waitFor({ state: 'detached', timeout: 10_000 })
  })

  step('alice mutes Family for an hour from its menu with the keyboard (axe on the menu and its submenu)', async () => {
    const options = nav(alice).getByRole('button', { name: 'Options for Family' })
    await options.focus()
    await alice.keyboard.press('ArrowDown')
    const menu = alice.getByRole('menu', { name: 'Options for Family' })
    await menu.waitFor()
    await expectAccessible(alice, 'the conversation menu')
    await alice.keyboard.press('ArrowDown')
    await alice.keyboard.press('ArrowDown')
    await alice.keyboard.press('ArrowRight')
    const sub = alice.getByRole('menu', { name: 'Mute' })
    await sub.waitFor()
    await expectAccessible(alice, 'the mute submenu')
    expect(await sub.getByRole('menuitem').allInnerTexts()).toEqual(['For 1 hour', 'For 8 hours', 'For 1 day', 'For 1 week', 'Always'])
    await alice.keyboard.press('Enter')
    await row(alice, /^Family\s*, muted until /).waitFor({ timeout: 10_000 })
    await expect.poll(() => alice.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Options for Family')
  })

  step('alice pins the direct chat: it goes to the top', async () => {
    await nav(alice).getByRole('button', { name: 'Options for Bob' }).click()
    await alice.getByRole('menuitem', { name: 'Pin to top' }).click()
    await row(alice, /^Bob\s*, pinned/).waitFor({ timeout: 10_000 })
    expect((await rowNames(alice))[0]).toMatch(/^Bob/)
  })

  step('alice archives Family: it moves under "Archived (1)"; what bob writes there keeps it archived (muted) but counted', async () => {
    await nav(alice).getByRole('button', { name: 'Options for Family' }).click()
    await alice.getByRole('menuitem', { name: 'Archive' }).click()
    const entry = nav(alice).getByRole('button', { name: 'Archived (1)' })
    await entry.waitFor({ timeout: 10_000 })
    expect(await rowNames(alice)).not.toContain('Family')

    await row(bob, 'Family').click()
    await send(bob, 'Anyone up for a walk?')
    await entry.click()
    await nav(alice).getByRole('heading', { name: 'Archived' }).waitFor()
    await row(alice, /^Family\s*, muted until .*, 1 unread$/).waitFor({ timeout: 30_000 })
    await expectAccessible(alice, 'the archived list')
    await nav(alice).getByRole('button', { name: '← Back to chats' }).click()
    await nav(alice).getByRole('button', { name: 'Archived (1)' }).waitFor()
  })

  step('alice unmutes and unarchives Family from the archived list; it is back in the main list', async () => {
    await nav(alice).getByRole('button', { name: 'Archived (1)' }).click()
    await nav(alice).getByRole('button', { name: 'Options for Family' }).click()
    await alice.getByRole('menuitem', { name: 'Unarchive' }).click()
    await nav(alice).getByRole('heading', { name: 'Archived' }).waitFor()
    await nav(alice).getByText('Nothing archived.').waitFor({ timeout: 10_000 })
    await nav(alice).getByRole('button', { name: '← Back to chats' }).click()
    await nav(alice).getByRole('button', { name: 'Options for Family' }).click()
    await alice.getByRole('menuitem', { name: 'Unmute' }).click()
    await row(alice, /^Family(?!\s*, muted)/).waitFor({ timeout: 10_000 })
    expect(await nav(alice).locator('.is-muted').count()).toBe(0)
  })
})
