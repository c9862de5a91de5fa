/// <reference lib="dom" />
/**
 * A narrow window (420 px, a phone-sized window or a window snapped to a third of the screen) shows one pane at a
 * time, as phone messengers do: the list alone; a conversation opened from it alone, with a Back button; Escape or
 * Back returns to the list with focus where it was. Served by a scripted core through the real browser-mode server.
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { RENDERER_DIST } from '../../node/src/app/renderer-build.js'
import { startWebServer, type WebServer } from '../../node/src/app/web-server.js'
import { launchBrowser, RESULTS_DIR, type E2eBrowser } from '../helpers/e2e-browser.js'
import { fakeCore } from '../helpers/e2e-fake-core.js'
import { buildUi } from '../helpers/e2e-hosts.js'
import { expectAccessible } from '../helpers/e2e-ui.js'

let browser: E2eBrowser
let server: WebServer
let page: Page

beforeAll(async () => {
  await buildUi()
  server = await startWebServer({ dispatcher: fakeCore(40), distDir: RENDERER_DIST })
  browser = await launchBrowser()
  page = await (await browser.context('narrow')).newPage()
  await page.setViewportSize({ width: 420, height: 760 })
})
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await browser.keepEvidence(context.task.name)
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

const list = () => page.getByRole('navigation', { name: 'Conversations' })
const conversation = () => list().getByRole('button', { name: /^Archive/ })
const chatTitle = () => page.getByRole('heading', { name: 'Archive', level: 2 })
const backButton = () => page.getByRole('button', { name: 'Back to conversations' })
const focused = () => page.evaluate(() => {
  const el = document.activeElement
  return el === null ? '' : `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') ?? el.getAttribute('data-conversation-id') ?? el.textContent ?? ''}`
})

/** Both panes' boxes: a pane that is not shown has none. */
async function shown(): Promise<{ list: boolean; pane: boolean }> {
  return page.evaluate(() => ({
    list: (document.querySelector('.sidebar')?.getClientRects().length ?? 0) > 0,
    pane: (document.querySelector('.pane')?.getClientRects().length ?? 0) > 0,
  }))
}

describe('a 420 px window', () => {
  it('shows the list alone, the whole width', async () => {
    await page.goto(server.newLaunchUrl())
    await conversation().waitFor()
    expect(await shown()).toEqual({ list: true, pane: false })
    const width = await page.evaluate(() => document.querySelector('.sidebar')!.getBoundingClientRect().width)
    expect(width).toBeGreaterThan(400)
    await expectAccessible(page, 'narrow: the list')
    await page.screenshot({ path: join(RESULTS_DIR, 'narrow-list.png') })
  })

  it('opens a conversation alone, with a Back button and focus in the composer', async () => {
    await conversation().click()
    await chatTitle().waitFor()
    expect(await shown()).toEqual({ list: false, pane: true })
    await backButton().waitFor()
    await waitFor(async () => (await focused()).startsWith('textarea'), { message: 'focus in the composer' })
    await expectAccessible(page, 'narrow: a chat')
    await page.screenshot({ path: join(RESULTS_DIR, 'narrow-chat.png') })
  })

  it('Escape goes back to the list, with focus on the conversation it came from', async () => {
    await page.keyboard.press('Escape')
    await conversation().waitFor()
    expect(await shown()).toEqual({ list: true, pane: false })
    expect(await backButton().count()).toBe(0)
    await waitFor(async () => (await focused()).includes('f'.repeat(32)), { message: 'focus back on the conversation' })
  })

  it('Back does the same, by keyboard', async () => {
    await page.keyboard.press('Enter')
    await chatTitle().waitFor()
    await backButton().focus()
    await page.keyboard.press('Enter')
    await conversation().waitFor()
    expect(await shown()).toEqual({ list: true, pane: false })
    await waitFor(async () => (await focused()).includes('f'.repeat(32)), { message: 'focus back on the conversation' })
  })

  it('Escape in an empty composer goes back; in a dialog opened from the chat it only closes the dialog', async () => {
    await conversation().click()
    const composer = page.getByLabel('Message to Archive')
    await composer.fill('')
    await composer.press('Escape')
    await conversation().waitFor()
    await conversation().click()
    await chatTitle().waitFor()
    // A dialog opened from the chat takes Escape for itself.
    await page.getByRole('button', { name: 'Members' }).click()
    await page.getByRole('dialog').waitFor()
    await page.keyboard.press('Escape')
    await page.getByRole('dialog').waitFor({ state: 'detached' })
    expect(await shown()).toEqual({ list: false, pane: true })
    await backButton().click()
    await conversation().waitFor()
  })

  it('Settings opens alone too; focus on Back; Escape returns to the Settings button', async () => {
    await page.getByRole('button', { name: 'Settings' }).click()
    await page.getByRole('heading', { name: 'Settings', level: 2 }).waitFor()
    expect(await shown()).toEqual({ list: false, pane: true })
    await waitFor(async () => (await focused()).includes('Back'), { message: 'focus on Back' })
    await expectAccessible(page, 'narrow: settings')
    await page.keyboard.press('Escape')
    await conversation().waitFor()
    await waitFor(async () => (await focused()) === 'button Settings', { message: 'focus back on Settings' })
    // Its own Done button goes back the same way.
    await page.keyboard.press('Enter')
    await page.getByRole('button', { name: 'Done' }).click()
    await conversation().waitFor()
    await waitFor(async () => (await focused()) === 'button Settings', { message: 'focus back on Settings after Done' })
  })

  it('widened, shows both panes again and no Back button', async () => {
    await conversation().click()
    await chatTitle().waitFor()
    await page.setViewportSize({ width: 1100, height: 760 })
    await waitFor(async () => {
      const s = await shown()
      return s.list && s.pane
    }, { message: 'both panes' })
    expect(await backButton().count()).toBe(0)
    await page.setViewportSize({ width: 420, height: 760 })
    await backButton().waitFor()
    expect(await shown()).toEqual({ list: false, pane: true })
  })
})
