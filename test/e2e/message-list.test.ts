/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The virtualized message list in a real Chromium with 100,000 messages in one conversation (served by a scripted core
 * through the real browser-mode server): only a window of rows is in the DOM, the chat opens at the newest message,
 * older pages load as you scroll up, and what you were reading stays in place when they arrive above it.
 */
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { RENDERER_DIST } from '../../node/src/app/renderer-build.js'
import { startWebServer, type WebServer } from '../../node/src/app/web-server.js'
import { launchBrowser, type E2eBrowser } from '../helpers/e2e-browser.js'
import { fakeCore, type FakeCore } from '../helpers/e2e-fake-core.js'
import { buildUi } from '../helpers/e2e-hosts.js'

const COUNT = 100_000

let browser: E2eBrowser
let server: WebServer
let core: FakeCore
let page: Page

beforeAll(async () => {
  await buildUi()
  core = fakeCore(COUNT)
  server = await startWebServer({ dispatcher: core, distDir: RENDERER_DIST })
  browser = await launchBrowser()
  page = await (await browser.context('archive')).newPage()
})
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await browser.keepEvidence(context.task.name)
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

/** The message bodies whose rows are in view, top to bottom. */
function visibleMessages(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const log = document.querySelector('[role="log"]')!
    const box = log.getBoundingClientRect()
    return [...log.querySelectorAll('.message .body')]
      .map((el) => ({ el, rect: el.getBoundingClientRect() }))
      .filter(({ rect }) => rect.bottom > box.top && rect.top < box.bottom)
      .sort((a, b) => a.rect.top - b.rect.top)
      .map(({ el }) => (el.textContent ?? '').split('\n')[0]!)
  })
}

const rowsInDom = (p: Page) => p.locator('.message-slot').count()

describe('the message list with 100k messages', () => {
  it('opens at the newest message with only a window of rows in the DOM', async () => {
    await page.goto(server.newLaunchUrl())
    await page.getByRole('button', { name: /^Archive/ }).click()
    const log = page.getByRole('log', { name: 'Messages in Archive' })
    await log.waitFor()
    await waitFor(async () => (await visibleMessages(page)).includes(`Message ${COUNT - 1}`), { message: 'the newest message in view' })
    expect(await rowsInDom(page)).toBeLessThan(80)
    const gap = await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)
    expect(gap).toBeLessThan(50)
  })

  it('loads older pages while scrolling up, keeping the row being read in place and the DOM small', async () => {
    const log = page.getByRole('log', { name: 'Messages in Archive' })
    for (let round = 0; round < 5; round++) {
      const calls = core.pageCalls.length
      const release = core.hold()
      // A person scrolling up quickly: a big jump towards the top.
      await log.evaluate((el) => el.scrollBy(0, -el.scrollTop + 50))
      await waitFor(() => core.pageCalls.length > calls, { message: `page request ${round}` })
      await page.getByText('Loading older messages…').waitFor()
      const before = (await waitFor(async () => (await visibleMessages(page))[0], { message: 'rows in view' }))
      release()
      // Once the page is in, the row that was at the top is still in view.
      await page.getByText('Loading older messages…').waitFor({ state: 'detached' })
      await waitFor(async () => (await visibleMessages(page)).includes(before), { message: `"${before}" kept in view`, timeoutMs: 5_000 })
      expect(await rowsInDom(page)).toBeLessThan(80)
    }
    expect(core.pageCalls.length).toBeGreaterThanOrEqual(6)
    expect(core.pageCalls.every((c) => c.limit <= 500)).toBe(true)
    // Keyboard: the log takes focus, End goes back to the newest message.
    await log.focus()
    await page.keyboard.press('End')
    await waitFor(async () => (await visibleMessages(page)).includes(`Message ${COUNT - 1}`), { message: 'back at the newest message' })
  })
})
