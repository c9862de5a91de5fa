/// <reference lib="dom" />
/**
 * Emoji render in colour from the font shipped with the app, in a Chromium that has no emoji font of its own (Debian's
 * /usr/bin/chromium here: `fc-list | grep -i emoji` finds nothing), served under the app's Content-Security-Policy.
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RENDERER_DIST } from '../../node/src/app/renderer-build.js'
import { startWebServer, type WebServer } from '../../node/src/app/web-server.js'
import { launchBrowser, RESULTS_DIR, type E2eBrowser } from '../helpers/e2e-browser.js'
import { fakeCore } from '../helpers/e2e-fake-core.js'
import { buildUi } from '../helpers/e2e-hosts.js'

let browser: E2eBrowser
let server: WebServer
let page: Page
const problems: string[] = []

beforeAll(async () => {
  await buildUi()
  server = await startWebServer({ dispatcher: fakeCore(5), distDir: RENDERER_DIST })
  browser = await launchBrowser()
  page = await (await browser.context('emoji')).newPage()
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()))
  page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`))
})
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await browser.keepEvidence(context.task.name)
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

/**
 * Draws text with the page's own font on a canvas and counts strongly coloured pixels: a colour emoji has many, an
 * empty box or a black-and-white outline none.
 */
function colouredPixels(p: Page, text: string): Promise<number> {
  return p.evaluate(async (t) => {
    const family = getComputedStyle(document.body).fontFamily
    await document.fonts.load(`48px ${family}`, t)
    const canvas = document.createElement('canvas')
    canvas.width = 80 * [...t].length
    canvas.height = 80
    const ctx = canvas.getContext('2d')!
    ctx.fillStyle = '#fff'
    ctx.fillRect(0, 0, canvas.width, canvas.height)
    ctx.fillStyle = '#000'
    ctx.font = `48px ${family}`
    ctx.fillText(t, 8, 60)
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data
    let count = 0
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!]
      if (Math.max(r, g, b) - Math.min(r, g, b) > 80) count++
    }
    return count
  }, text)
}

describe('the emoji font', () => {
  it('draws emoji in colour, and plain text stays in the system font', async () => {
    await page.goto(server.newLaunchUrl())
    await page.getByRole('button', { name: /^Archive/ }).click()
    const composer = page.getByLabel('Message to Archive')
    await composer.fill('Dinner at 7? 😀👍🏽🇬🇧❤️👨‍👩‍👧 #1')
    for (const emoji of ['😀', '👍🏽', '🇬🇧', '❤️', '👨‍👩‍👧']) expect(await colouredPixels(page, emoji), emoji).toBeGreaterThan(200)
    expect(await colouredPixels(page, 'Dinner at 7? #1')).toBe(0)
    // Fetched from the app's own origin: nothing refused by the Content-Security-Policy, nothing missing.
    const faces = await page.evaluate(() => [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'Twemoji').map((f) => f.status))
    expect(faces).toEqual(['loaded'])
    expect(problems).toEqual([])
    await composer.screenshot({ path: join(RESULTS_DIR, 'emoji-composer.png') })
  })
})
