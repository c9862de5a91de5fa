/// <reference lib="dom" />
/**
 * The composer in a real Chromium against a real core in browser mode: a megabyte pasted and sent is refused in place
 * (the text stays, a message says what to do, the connection to the core stays up), a frame that large sent to the
 * core anyway is answered without closing the socket, a normal message still goes, and an unsent draft survives a
 * reload and a restart of Hearth. axe-core checks the composer with its error showing.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, type E2eBrowser } from '../helpers/e2e-browser.js'
import { buildUi, freePort, startHost, type HostOptions, type HostProcess } from '../helpers/e2e-hosts.js'
import { expectAccessible, messageRow, onboard, openConversation, send, unlock, waitForState } from '../helpers/e2e-ui.js'

let root: string
let browser: E2eBrowser
let host: HostProcess
let options: HostOptions
let page: Page
let failed = false

/** About a megabyte of ordinary text, as a long document pasted whole. */
const PASTED = 'A paragraph of a long document, pasted whole into the composer. '.repeat(16_400)

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-e2e-composer-'))
  await buildUi()
  options = { dataDir: join(root, 'alice'), uiPort: await freePort(), listenPort: await freePort() }
  host = await startHost('alice', options)
  browser = await launchBrowser()
  const context = await browser.context('alice')
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(host.url).origin })
  page = await context.newPage()
  await page.goto(host.url)
})

afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return
  failed = true
  await browser.keepEvidence(context.task.name)
  process.stderr.write(`--- ${host.name} output ---\n${host.output()}\n`)
})

afterAll(async () => {
  await browser?.close()
  await host?.stop()
  await rm(root, { recursive: true, force: true })
})

function step(name: string, fn: () => Promise<void>) {
  it(name, async (context) => {
    if (failed) context.skip()
    await fn()
  })
}

const composer = () => page.getByLabel(/^Message to /)

/** Whether the page shows that it lost the core (the banner, the status pill, or a call refused for it). */
async function showsDisconnected(): Promise<boolean> {
  const text = await page.locator('body').innerText()
  return /Disconnected|lost its connection|Hearth is not running/.test(text)
}

describe('the composer with a very long text', () => {
  step('a person sets up and opens a conversation', async () => {
    await onboard(page, 'Alice')
    await page.getByRole('button', { name: 'New group' }).click()
    await page.getByLabel('Group name').fill('Notes')
    await page.getByRole('button', { name: 'Create group' }).click()
    await page.getByLabel('Invite link').waitFor()
    await page.getByRole('button', { name: 'Close' }).click()
    await page.getByRole('heading', { name: 'Notes', level: 2 }).waitFor()
    await send(page, 'A first short note')
    await waitForState(page, 'A first short note', ['saved', 'pending', 'sent', 'relayed', 'delivered', 'read'])
  })

  step('near the limit a counter shows the room left', async () => {
    await composer().fill('x'.repeat(15_000))
    await page.getByText('1,000 characters left').waitFor()
    await composer().fill('')
    expect(await page.locator('.composer-counter').count()).toBe(0)
  })

  step('a pasted megabyte sent with Enter stays in the composer, with what to do, and the connection stays up', async () => {
    await page.evaluate((text) => navigator.clipboard.writeText(text), PASTED)
    await composer().focus()
    const pasteStarted = Date.now()
    await page.keyboard.press('Control+V')
    await page.waitForFunction((length) => (document.querySelector('.composer-input') as HTMLTextAreaElement).value.length === length, PASTED.length)
    const pasteMs = Date.now() - pasteStarted
    await page.locator('.composer-counter').filter({ hasText: /characters over the limit$/ }).waitFor()
    await composer().press('Enter')
    const alert = page.locator('.composer').getByRole('alert')
    await alert.waitFor()
    expect(await alert.innerText()).toMatch(/^This message is too long to send: [\d,]+ characters over the limit of 16,000\. Shorten it, or send it in several parts\.$/)
    expect((await composer().inputValue()).length).toBe(PASTED.length)
    expect(await composer().getAttribute('aria-invalid')).toBe('true')
    // Nothing went out: no row, no failed state, and the page still has its core.
    expect(await page.locator('.message.optimistic').count()).toBe(0)
    await page.waitForTimeout(1_000)
    expect(await showsDisconnected()).toBe(false)
    await expectAccessible(page, 'composer refusing a text over the limit')
    await page.emulateMedia({ colorScheme: 'dark' })
    await expectAccessible(page, 'composer refusing a text over the limit (dark)')
    await page.emulateMedia({ colorScheme: 'light' })
    process.stdout.write(`composer: pasting ${PASTED.length.toLocaleString('en-US')} characters took ${pasteMs} ms\n`)
  })

  step('a frame that large sent to the core anyway is answered TOO_LARGE and the socket stays open', async () => {
    const outcome = await page.evaluate(async (text) => {
      const token = sessionStorage.getItem('hearth.apiToken')!
      const ws = new WebSocket(`ws://${location.host}/`, [`hearth.${token}`])
      await new Promise((resolve, reject) => {
        ws.onopen = resolve
        ws.onerror = reject
      })
      const answers: unknown[] = []
      let closed: number | null = null
      // Settles with both answers, or as soon as the server closes the socket instead.
      const done = new Promise<void>((resolve) => {
        ws.onclose = (event) => {
          closed = event.code
          resolve()
        }
        ws.onmessage = (event) => {
          const message = JSON.parse(String(event.data)) as { event?: string }
          if (message.event === undefined) answers.push(message)
          if (answers.length === 2) resolve()
        }
      })
      ws.send(JSON.stringify({ id: 1, method: 'messages.send', params: { conversationId: '0'.repeat(32), body: text } }))
      ws.send(JSON.stringify({ id: 2, method: 'identity.whoami' }))
      await done
      const state = ws.readyState
      ws.close()
      return { answers, closed, state }
    }, PASTED)
    expect(outcome.closed).toBeNull()
    expect(outcome.answers).toMatchObject([
      { id: 1, ok: false, error: { code: 'TOO_LARGE' } },
      { id: 2, ok: true, result: { displayName: 'Alice' } },
    ])
    expect(outcome.state).toBe(1)
    expect(await showsDisconnected()).toBe(false)
  })

  step('shortened to a normal message, it sends', async () => {
    await composer().fill('The short version: all is well.')
    expect(await page.locator('.composer').getByRole('alert').count()).toBe(0)
    await composer().press('Enter')
    await messageRow(page, 'The short version: all is well.').waitFor()
    await waitForState(page, 'The short version', ['saved', 'pending', 'sent', 'relayed', 'delivered', 'read'])
    expect(await composer().inputValue()).toBe('')
    expect(await showsDisconnected()).toBe(false)
  })

  step('an unsent draft survives a reload and a restart of Hearth', async () => {
    await composer().fill('A thought for later, not sent yet')
    await page.reload()
    // Marked in the list before it is opened.
    await page.getByRole('navigation', { name: 'Conversations' }).locator('.draft-mark').waitFor()
    await openConversation(page, 'Notes')
    expect(await composer().inputValue()).toBe('A thought for later, not sent yet')

    expect(await host.stop()).toBe(0)
    host = await startHost('alice', options)
    // The open tab reconnects by itself; the restarted core is locked.
    await unlock(page)
    await openConversation(page, 'Notes')
    expect(await composer().inputValue()).toBe('A thought for later, not sent yet')
  })
})
