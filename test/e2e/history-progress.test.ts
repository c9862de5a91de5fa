/// <reference lib="dom" />
/**
 * While a conversation's history is still arriving (a linked or restored device), its row says "Getting history… 40%"
 * with a progress bar and the open chat a slim banner, with whose keys earlier messages wait for; both go when the core
 * says it caught up, and nothing stops the person writing meanwhile. A scripted core (the shapes a real one produces
 * only for a moment) through the real browser-mode server, in Chromium; axe checks both screens, contrast included.
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EventPush, Response } from '../../node/src/api/contract.js'
import type { Dispatcher } from '../../node/src/api/dispatcher.js'
import type { ConversationSummary } from '../../node/src/api/types.js'
import { RENDERER_DIST } from '../../node/src/app/renderer-build.js'
import { startWebServer, type WebServer } from '../../node/src/app/web-server.js'
import { launchBrowser, RESULTS_DIR, type E2eBrowser } from '../helpers/e2e-browser.js'
import { fakeCore } from '../helpers/e2e-fake-core.js'
import { buildUi } from '../helpers/e2e-hosts.js'
import { expectAccessible } from '../helpers/e2e-ui.js'

let browser: E2eBrowser
let server: WebServer
let page: Page
const listeners = new Set<(push: EventPush) => void>()
let summary: ConversationSummary

/** The scripted core, with a conversation whose history is still arriving and events the test pushes. */
function behindCore(): Dispatcher {
  const core = fakeCore(12)
  return {
    async handle(raw: unknown): Promise<Response> {
      const request = raw as { id: number; method: string }
      const answer = await core.handle(raw)
      if (!answer.ok || request.method !== 'conversations.list') return answer
      summary = {
        ...(answer.result as ConversationSummary[])[0]!,
        history: { have: 120, total: 300, waiting: 4, waitingFor: [{ account: 'b'.repeat(64), displayName: 'Bob' }] },
      }
      return { ...answer, result: [summary] }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

beforeAll(async () => {
  await buildUi()
  server = await startWebServer({ dispatcher: behindCore(), distDir: RENDERER_DIST })
  browser = await launchBrowser()
  page = await (await browser.context('history-progress')).newPage()
})
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await browser.keepEvidence(context.task.name)
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

const row = () => page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: /^Archive/ })

describe('history still arriving', () => {
  it('the list row says how far it has got, with a progress bar', async () => {
    await page.goto(server.newLaunchUrl())
    await row().waitFor()
    expect(await row().innerText()).toContain('Getting history… 40%')
    const bar = page.getByRole('progressbar', { name: 'History of Archive arriving' })
    expect(await bar.getAttribute('value')).toBe('40')
    await expectAccessible(page, 'the list while history arrives')
  })

  it('the open chat shows a slim banner above the messages, and whose keys earlier ones wait for; writing works', async () => {
    await row().click()
    await page.getByText('Getting history… 40% You can read and write meanwhile.').waitFor()
    await page.getByRole('status').filter({ hasText: 'Some earlier messages will appear when Bob is online.' }).waitFor()
    await page.getByText('Message 11', { exact: true }).waitFor()
    const composer = page.locator('textarea')
    expect(await composer.isEnabled()).toBe(true)
    await expectAccessible(page, 'a chat while history arrives')
    await page.screenshot({ path: join(RESULTS_DIR, 'history-progress.png') })
  })

  it('both go once the core says it caught up', async () => {
    const { history: _, ...caughtUp } = summary
    for (const listener of listeners) listener({ event: 'conversation.updated', payload: { conversation: caughtUp } })
    await page.getByText(/Getting history…/).first().waitFor({ state: 'detached' })
    await page.getByText(/Some earlier messages will appear/).waitFor({ state: 'detached' })
    expect(await page.getByRole('progressbar').count()).toBe(0)
  })
})
