/**
 * An error from the real core, shown to a person: in Settings, a relay address typed without its parts is refused by
 * the core, and the refusal appears in plain words under the field, tied to it for screen readers, with what to do.
 * One browser-mode Hearth host, exactly as `npm run start:web` runs it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, type E2eBrowser } from '../helpers/e2e-browser.js'
import { buildUi, freePort, startHost, type HostProcess } from '../helpers/e2e-hosts.js'
import { expectAccessible, onboard } from '../helpers/e2e-ui.js'

let root = ''
let host: HostProcess | undefined
let browser: E2eBrowser
let page: Page

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-e2e-field-errors-'))
  await buildUi()
  host = await startHost('alice', { dataDir: join(root, 'alice'), uiPort: await freePort(), listenPort: await freePort() })
  browser = await launchBrowser()
  page = await (await browser.context('alice')).newPage()
  await page.goto(host.url)
})
afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return
  await browser.keepEvidence(context.task.name)
  process.stderr.write(`--- host output ---\n${host?.output()}\n`)
})
afterAll(async () => {
  await browser?.close()
  await host?.stop()
  if (root !== '') await rm(root, { recursive: true, force: true })
})

describe('a refused relay address', () => {
  it('is said under the relay field in plain words, tied to it, and cleared when the address is edited', async () => {
    await onboard(page, 'Alice')
    await page.getByRole('button', { name: 'Settings' }).click()
    const field = page.getByLabel('Add a relay')
    await field.fill('relay.example.org')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    const alert = page.getByRole('alert').filter({ hasText: 'That is not a relay address.' })
    await alert.waitFor({ timeout: 30_000 })
    expect(await alert.textContent()).toMatch(/looks like \/dns4\/.*copy it whole/)
    expect(await alert.textContent()).not.toMatch(/multiaddr/)
    expect(await field.getAttribute('aria-invalid')).toBe('true')
    expect(await field.getAttribute('aria-describedby')).toBe(await alert.getAttribute('id'))
    await expectAccessible(page, 'settings: a refused relay address')

    await field.fill('/dns4/relay.example.org/tcp/443/wss')
    await alert.waitFor({ state: 'detached' })
    expect(await field.getAttribute('aria-invalid')).toBe('false')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('alert').filter({ hasText: 'lacks the relay’s id at the end' }).waitFor({ timeout: 30_000 })
  })
})
