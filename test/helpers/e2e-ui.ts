/// <reference lib="dom" />
/**
 * What a person does in the Hearth UI, as Playwright steps: each waits on what the screen shows, never on time.
 */
import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { seriousViolations } from './e2e-browser.js'

export const PASSPHRASE = 'a long family passphrase'

/** First run: create an identity, write down the phrase (read it off the screen), type back the asked words. */
export async function onboard(page: Page, name: string, check: (screen: string) => Promise<void> = async () => {}): Promise<void> {
  await page.getByRole('button', { name: 'Create my identity' }).waitFor()
  await check('onboarding: welcome')
  await page.getByRole('button', { name: 'I have a recovery phrase' }).click()
  await page.getByLabel('Recovery phrase').waitFor()
  await check('onboarding: restore')
  await page.getByRole('button', { name: 'Back' }).click()
  await page.getByRole('button', { name: 'Create my identity' }).click()
  await page.getByLabel('Your name').fill(name)
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE)
  await page.getByLabel('Passphrase again').fill(PASSPHRASE)
  await check('onboarding: name and passphrase')
  await page.getByRole('button', { name: 'Continue' }).click()
  const phrase = page.getByRole('list', { name: 'Recovery phrase' })
  await phrase.waitFor()
  await check('onboarding: recovery phrase')
  const words = await phrase.locator('.phrase-word').allTextContents()
  expect(words).toHaveLength(24)
  await page.getByLabel('I have written these words down').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByRole('button', { name: 'Finish' }).waitFor()
  await check('onboarding: confirm words')
  for (const label of await page.locator('label', { hasText: /^Word \d+$/ }).allTextContents()) {
    await page.getByLabel(label, { exact: true }).fill(words[Number(label.slice(5)) - 1]!)
  }
  await page.getByRole('button', { name: 'Finish' }).click()
  await page.getByRole('button', { name: 'New group' }).waitFor({ timeout: 60_000 })
}

export async function unlock(page: Page, check: (screen: string) => Promise<void> = async () => {}): Promise<void> {
  await page.getByRole('heading', { name: 'Unlock Hearth' }).waitFor()
  // A wrong passphrase is said in place, and the form stays.
  await page.getByLabel('Passphrase').fill('not the passphrase')
  await page.getByRole('button', { name: 'Unlock' }).click()
  await page.getByRole('alert').filter({ hasText: 'That passphrase is not right.' }).waitFor({ timeout: 30_000 })
  await check('unlock')
  await page.getByLabel('Passphrase').fill(PASSPHRASE)
  await page.getByRole('button', { name: 'Unlock' }).click()
  await page.getByRole('button', { name: 'New group' }).waitFor({ timeout: 60_000 })
}

export async function openConversation(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: new RegExp(`^${name}`) }).click()
  await page.getByRole('heading', { name, level: 2 }).waitFor()
}

export async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByLabel(/^Message to /)
  await composer.fill(text)
  await composer.press('Enter')
  await messageRow(page, text).waitFor()
}

export function messageRow(page: Page, text: string) {
  return page.getByRole('log').locator('.message', { has: page.locator('.body', { hasText: text }) })
}

/** The state badge of one of my messages: sending, pending, sent, delivered, read, failed. */
export async function stateOf(page: Page, text: string): Promise<string | null> {
  const badge = messageRow(page, text).locator('[data-state]')
  return (await badge.count()) === 0 ? null : badge.first().getAttribute('data-state')
}

export async function waitForState(page: Page, text: string, states: string[], timeoutMs = 30_000): Promise<string> {
  return waitFor(async () => {
    const state = await stateOf(page, text)
    return state !== null && states.includes(state) ? state : undefined
  }, { timeoutMs, intervalMs: 100, message: `"${text}" to be ${states.join(' or ')}` })
}

/** Fails the test with the list of serious or critical accessibility problems on the screen as it is. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const violations = await seriousViolations(page)
  expect(violations, `axe on ${screen}: ${JSON.stringify(violations, null, 2)}`).toEqual([])
}
