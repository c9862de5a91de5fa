import { describe, expect } from 'vitest'
import { twoPeople } from '../helpers/e2e-story.js'
import { expectAccessible, messageRow, onboard, send } from '../helpers/e2e-ui.js'

/**
 * Alice reads an invite code off her screen; Bob types it by hand, in lower case with spaces as he hears it, and is
 * in the group with Alice's first message. The invite dialog keeps the invite: opening it again makes no new one.
 */
describe('a short invite typed by hand', () => {
  const story = twoPeople('short-invite')
  let spoken = ''

  story.step('alice makes a group; the invite dialog shows a short code in groups of four and its QR code', async () => {
    const { alice, bob } = story
    await Promise.all([onboard(alice, 'Alice'), onboard(bob, 'Bob')])
    await alice.getByRole('button', { name: 'New group' }).click()
    await alice.getByLabel('Group name').fill('Family')
    await alice.getByRole('button', { name: 'Create group' }).click()
    const code = alice.getByRole('list', { name: 'Active invites' }).locator('.invite-code')
    await code.waitFor()
    spoken = (await code.textContent()) ?? ''
    expect(spoken).toMatch(/^([0-9A-Z]{4} ){5}@( [0-9A-Z]{1,4})+$/)
    expect((await alice.getByLabel('Invite link').inputValue()).length).toBeLessThanOrEqual(60)
    await alice.getByRole('img', { name: /QR code of the invite/ }).waitFor()
    await expectAccessible(alice, 'invite dialog with its active invites')
    await alice.getByRole('button', { name: 'Close' }).click()
  })

  story.step('bob types the code by hand and joins; the first message arrives', async () => {
    const { alice, bob } = story
    await bob.getByRole('button', { name: 'Join' }).click()
    const field = bob.getByLabel('Invite link or code')
    // A typo first: caught at once, next to the field.
    await field.pressSequentially(`${spoken.slice(0, 3)}${spoken[3] === 'X' ? 'Y' : 'X'}${spoken.slice(4)}`.toLowerCase())
    await bob.getByRole('dialog').getByRole('button', { name: 'Join' }).click()
    await bob.getByRole('alert').filter({ hasText: 'typo' }).waitFor()
    await expectAccessible(bob, 'join dialog with a typo')
    await field.fill('')
    await field.pressSequentially(spoken.toLowerCase())
    await bob.getByRole('dialog').getByRole('button', { name: 'Join' }).click()
    await bob.getByRole('heading', { name: 'Family', level: 2 }).waitFor({ timeout: 30_000 })
    await alice.getByText('2 members').waitFor({ timeout: 30_000 })
    await send(alice, 'Welcome, Bob!')
    await messageRow(bob, 'Welcome, Bob!').waitFor({ timeout: 30_000 })
  })

  story.step('opening Invite again shows the list (the used invite is gone) and makes one new invite only then', async () => {
    const { alice } = story
    await alice.getByRole('button', { name: 'Invite', exact: true }).click()
    const list = alice.getByRole('list', { name: 'Active invites' })
    await list.waitFor()
    await expect.poll(async () => list.getByRole('listitem').count()).toBe(1)
    expect(await list.locator('.invite-code').textContent()).not.toBe(spoken)
    await list.getByRole('button', { name: 'Revoke' }).click()
    await alice.getByText('No invite can be used right now').waitFor()
    await expectAccessible(alice, 'invite dialog with no invite')
  })
})
