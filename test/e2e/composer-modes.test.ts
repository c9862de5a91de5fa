/// <reference lib="dom" />
/**
 * The composer's everyday modes between two people, two cores and two browser windows (browser mode, as
 * `npm run start:web` runs it): typing shown to the other and cleared when the message arrives; a mention completed
 * with the keyboard, highlighted on the other side and counted in the conversation list's badge; editing the last
 * message with Arrow-Up; the New messages divider and Jump to latest. axe-core checks the composer in each mode and the
 * completion list.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect } from 'vitest'
import { familyOfTwo, twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, messageRow, openConversation, send, waitForState } from '../helpers/e2e-ui.js'

const people = twoPeople('modes')
const step = people.step.bind(people)
let alice: Page
let bob: Page

beforeAll(() => {
  alice = people.alice
  bob = people.bob
})

const composer = (page: Page) => page.getByLabel(/^Message to /)
const typingLine = (page: Page) => page.locator('.typing-indicator')

/** Bob looks at his settings, not at the chat: what arrives now stays unread. */
async function lookAway(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click()
  await page.getByRole('heading', { name: 'Settings' }).waitFor()
}

describe('composer modes between two people', () => {
  step('both onboard; alice creates a group and bob joins with its invite link', async () => {
    await familyOfTwo(alice, bob)
    await send(alice, 'Welcome, Bob')
    await messageRow(bob, 'Welcome, Bob').waitFor({ timeout: 30_000 })
  })

  step('bob types: alice sees "Bob is typing…" until his message arrives; bob never sees his own', async () => {
    await composer(bob).click()
    await bob.keyboard.type('Thanks for having me', { delay: 40 })
    await typingLine(alice).filter({ hasText: 'Bob is typing…' }).waitFor({ timeout: 30_000 })
    expect(await typingLine(alice).getAttribute('aria-live')).toBe('polite')
    expect(await typingLine(bob).innerText()).toBe('')
    await composer(bob).press('Enter')
    await messageRow(alice, 'Thanks for having me').waitFor({ timeout: 30_000 })
    await expect.poll(() => typingLine(alice).innerText(), { timeout: 2_000 }).toBe('')
  })

  step('alice mentions bob with the keyboard: the list, the pick, the highlight on his side and the @ badge', async () => {
    await lookAway(bob)
    await composer(alice).click()
    await alice.keyboard.type('@')
    const list = alice.getByRole('listbox', { name: 'Mention a member' })
    await list.waitFor()
    // Only the others: alice is not offered herself.
    expect(await list.getByRole('option').allInnerTexts()).toEqual([expect.stringContaining('Bob')])
    await alice.keyboard.type('b')
    const option = list.getByRole('option', { name: /Bob/ })
    expect(await composer(alice).getAttribute('aria-activedescendant')).toBe(await option.getAttribute('id'))
    expect(await option.getAttribute('aria-selected')).toBe('true')
    await expectAccessible(alice, 'composer with the mention list open')
    await alice.keyboard.press('Enter')
    await list.waitFor({ state: 'detached' })
    expect(await composer(alice).inputValue()).toBe('@Bob ')
    await alice.keyboard.type('can you bring the cake?')
    await alice.keyboard.press('Enter')
    await messageRow(alice, 'can you bring the cake?').waitFor()

    const family = bob.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: /^Family/ })
    await bob.getByRole('button', { name: /^Family.*, 1 unread mention\s*, 1 unread$/ }).waitFor({ timeout: 30_000 })
    expect(await family.locator('.unread.mentions').innerText()).toBe('@')
    await expectAccessible(bob, 'conversation list with an unread mention')
    await openConversation(bob, 'Family')
    const row = messageRow(bob, 'can you bring the cake?')
    await row.waitFor({ timeout: 30_000 })
    expect(await row.getAttribute('class')).toContain('mentions-me')
    expect(await row.locator('.mention.mention-me').innerText()).toBe('@Bob')
    await waitForState(alice, 'can you bring the cake?', ['read'])
    await bob.getByRole('button', { name: /, 1 unread mention/ }).waitFor({ state: 'detached' })
  })

  step('alice edits her last message with Arrow-Up: "Editing message", Enter saves, bob sees the new text', async () => {
    await composer(alice).click()
    await composer(alice).fill('')
    await composer(alice).press('ArrowUp')
    await alice.getByText('Editing message').waitFor()
    expect(await composer(alice).inputValue()).toBe('@Bob can you bring the cake?')
    await expectAccessible(alice, 'composer editing a message')
    await alice.keyboard.press('End')
    await alice.keyboard.press('Backspace')
    await alice.keyboard.type(' and candles?')
    await alice.keyboard.press('Enter')
    await alice.getByText('Editing message').waitFor({ state: 'detached' })
    expect(await composer(alice).inputValue()).toBe('')
    const edited = messageRow(bob, 'can you bring the cake and candles?')
    await edited.waitFor({ timeout: 30_000 })
    await edited.getByText('edited').waitFor()
    // Edit from the message's menu with a draft in the box: Escape leaves the edit unsaved and gives the draft back.
    await composer(alice).fill('a draft in progress')
    const mine = messageRow(alice, 'and candles?')
    await mine.hover()
    await mine.getByRole('button', { name: 'Actions for your message' }).click()
    await alice.getByRole('menuitem', { name: 'Edit' }).click()
    await alice.getByText('Editing message').waitFor()
    expect(await composer(alice).inputValue()).toBe('@Bob can you bring the cake and candles?')
    await composer(alice).press('Escape')
    await alice.getByText('Editing message').waitFor({ state: 'detached' })
    expect(await composer(alice).inputValue()).toBe('a draft in progress')
    await composer(alice).fill('')
  })

  step('reply mode from the message menu: "Replying to Bob", axe, Escape cancels', async () => {
    const row = messageRow(alice, 'Thanks for having me')
    await row.hover()
    await row.getByRole('button', { name: /^Actions for/ }).click()
    await alice.getByRole('menuitem', { name: 'Reply' }).click()
    await alice.getByText('Replying to Bob:').waitFor()
    await expectAccessible(alice, 'composer replying to a message')
    await alice.emulateMedia({ colorScheme: 'dark' })
    await expectAccessible(alice, 'composer replying to a message (dark)')
    await alice.emulateMedia({ colorScheme: 'light' })
    await composer(alice).press('Escape')
    await alice.getByText('Replying to Bob:').waitFor({ state: 'detached' })
  })

  step('bob comes back to many new messages: the list opens at the New messages divider, Jump to latest takes him down', async () => {
    await lookAway(bob)
    const count = 30
    for (let i = 1; i <= count; i++) await send(alice, `News number ${i}`)
    await bob.getByRole('button', { name: new RegExp(`^Family.*, ${count} unread$`) }).waitFor({ timeout: 60_000 })
    await openConversation(bob, 'Family')
    const divider = bob.getByRole('separator', { name: 'New messages' })
    await divider.waitFor()
    // The divider sits right above the first new message, and the list opened there (not at the newest).
    expect(await divider.locator('xpath=..').locator('.body').innerText()).toBe('News number 1')
    expect(await divider.isVisible()).toBe(true)
    expect(await messageRow(bob, `News number ${count}`).isVisible().catch(() => false)).toBe(false)
    const jump = bob.getByRole('button', { name: new RegExp(`^Jump to latest\\s*${count}\\s*new messages$`) })
    await jump.waitFor()
    await expectAccessible(bob, 'chat opened at the New messages divider, Jump to latest showing')
    // Nothing was marked read by opening: only reaching the newest does that.
    expect(await waitForState(alice, `News number ${count}`, ['delivered', 'read'])).toBe('delivered')
    await jump.click()
    await messageRow(bob, `News number ${count}`).waitFor({ state: 'visible' })
    await jump.waitFor({ state: 'detached' })
    await waitForState(alice, `News number ${count}`, ['read'])
  })
})
