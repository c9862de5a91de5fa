/// <reference lib="dom" />
/**
 * Group life between two people, two cores and two browser windows (browser mode): the timeline's system lines, Alice
 * renames the group and describes it from Group info (an empty name refused under its field), the last admin cannot
 * leave, Bob leaves and sees "You left", Alice sees "Bob left". axe-core checks the Group info dialog, its errors and
 * the leave confirmation.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect } from 'vitest'
import { familyOfTwo, twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, send } from '../helpers/e2e-ui.js'

const people = twoPeople('group-life')
const step = people.step.bind(people)
let alice: Page
let bob: Page

beforeAll(() => {
  alice = people.alice
  bob = people.bob
})

const line = (page: Page, text: string) => page.getByRole('log').locator('.system-line', { hasText: text })
const lines = (page: Page) => page.getByRole('log').locator('.system-line > span').allInnerTexts()
const dialog = (page: Page) => page.getByRole('dialog')

describe('group life: system lines, rename and description, leave', () => {
  step('both onboard; alice creates Family and bob joins; both timelines say so', async () => {
    await familyOfTwo(alice, bob)
    // Each reads the timeline as theirs: their own part is "You".
    await line(alice, 'Bob joined').waitFor({ timeout: 30_000 })
    expect(await lines(alice)).toEqual(['You created the group', 'Bob joined'])
    await line(bob, 'You joined').waitFor({ timeout: 30_000 })
    expect(await lines(bob)).toEqual(['Alice created the group', 'You joined'])
  })

  step('alice renames the group and describes it from Group info; bob sees the new name and the line', async () => {
    await alice.getByRole('button', { name: 'Group info' }).click()
    await dialog(alice).getByRole('heading', { name: 'About Family' }).waitFor()
    await expectAccessible(alice, 'the Group info dialog')

    const name = dialog(alice).getByRole('textbox', { name: 'Group name' })
    await name.fill('   ')
    await dialog(alice).getByRole('button', { name: 'Save' }).click()
    expect(await name.getAttribute('aria-invalid')).toBe('true')
    await dialog(alice).getByText('Give the group a name.').waitFor()
    await expectAccessible(alice, 'the Group info dialog with an error under the name')

    await name.fill('Cousins')
    await dialog(alice).getByRole('textbox', { name: 'Description' }).fill('Sunday lunch at grandma’s')
    await dialog(alice).getByRole('button', { name: 'Save' }).click()
    await dialog(alice).getByText('Saved').waitFor({ timeout: 30_000 })
    await dialog(alice).getByRole('button', { name: 'Close' }).click()

    for (const [page, who] of [[alice, 'You'], [bob, 'Alice']] as const) {
      await page.getByRole('heading', { name: 'Cousins', level: 2 }).waitFor({ timeout: 30_000 })
      await line(page, `${who} renamed the group to Cousins and changed the description`).waitFor({ timeout: 30_000 })
    }
    // Bob, a member, reads the description and cannot change it.
    await bob.getByRole('button', { name: 'Group info' }).click()
    await dialog(bob).getByText('Sunday lunch at grandma’s').waitFor()
    expect(await dialog(bob).getByRole('textbox').count()).toBe(0)
    await dialog(bob).getByRole('button', { name: 'Close' }).click()
  })

  step('the last admin cannot leave while bob is in: she is told to hand over first', async () => {
    await alice.getByRole('button', { name: 'Group info' }).click()
    await dialog(alice).getByRole('button', { name: 'Leave group' }).click()
    await dialog(alice).getByRole('group', { name: 'Leave Cousins?' }).getByRole('button', { name: 'Leave group' }).click()
    await dialog(alice).getByRole('alert').filter({ hasText: 'Make someone else an admin before you leave' }).waitFor({ timeout: 30_000 })
    await dialog(alice).getByRole('button', { name: 'Stay' }).click()
    await dialog(alice).getByRole('button', { name: 'Close' }).click()
    expect(await alice.getByText('2 members').count()).toBeGreaterThan(0)
  })

  step('bob leaves after a confirmation that says what happens; he reads "You left", alice reads "Bob left"', async () => {
    await send(bob, 'bye for now')
    await alice.getByRole('log').getByText('bye for now').waitFor({ timeout: 30_000 })
    await bob.getByRole('button', { name: 'Group info' }).click()
    await dialog(bob).getByRole('button', { name: 'Leave group' }).click()
    const confirm = dialog(bob).getByRole('group', { name: 'Leave Cousins?' })
    expect(await confirm.innerText()).toMatch(/nothing said after you leave reaches you/)
    await expectAccessible(bob, 'the leave confirmation')
    await confirm.getByRole('button', { name: 'Leave group' }).click()
    await dialog(bob).waitFor({ state: 'detached', timeout: 30_000 })

    await bob.getByText('You left this group. You can still read what was said before you left.').waitFor({ timeout: 30_000 })
    expect(await bob.getByRole('log').getByText('bye for now').count()).toBe(1)
    await alice.getByText('1 member', { exact: false }).first().waitFor({ timeout: 30_000 })
    await line(alice, 'Bob left').waitFor({ timeout: 30_000 })
    await line(bob, 'You left').waitFor({ timeout: 30_000 })

    // What alice writes after bob left does not reach him.
    await send(alice, 'after bob left')
    await new Promise((r) => setTimeout(r, 2000))
    expect(await bob.getByRole('log').getByText('after bob left').count()).toBe(0)
  })
})
