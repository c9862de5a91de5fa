// Code passed to page.evaluate runs in the browser: the DOM types describe it (the test project is otherwise Node-only).
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Chromium for the end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core (Playwright's own browser
 * downloads cannot work here), with the flags below (headless, no GPU, no background throttling). Each test gets its
 * own profile; a failed test leaves a screenshot and a trace in test-results/ (gitignored).
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import axe from 'axe-core'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const ROOT = join(import.meta.dirname, '..', '..')
export const RESULTS_DIR = join(ROOT, 'test-results')
export const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium'

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Two windows of one browser are two people: neither may be throttled for being in the background.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
]

export interface E2eBrowser {
  browser: Browser
  /** A fresh context (its own storage, like a separate browser profile) with tracing on. */
  context(name: string): Promise<BrowserContext>
  /** Saves a screenshot of every open page and the traces of every context, for a failed test. */
  keepEvidence(testName: string): Promise<void>
  close(): Promise<void>
}

export async function launchBrowser(): Promise<E2eBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium, as .ci/run does) or set HEARTH_CHROMIUM`)
  }
  // Playwright gives the browser a fresh temporary profile itself, so no --user-data-dir is passed.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
  const contexts = new Map<string, BrowserContext>()
  return {
    browser,
    async context(name) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 760 }, locale: 'en-GB', timezoneId: 'Europe/London' })
      await context.tracing.start({ screenshots: true, snapshots: true })
      contexts.set(name, context)
      return context
    },
    async keepEvidence(testName) {
      const dir = join(RESULTS_DIR, safeName(testName))
      await mkdir(dir, { recursive: true })
      for (const [name, context] of contexts) {
        for (const [i, page] of context.pages().entries()) {
          await page.screenshot({ path: join(dir, `${name}-${i}.png`), fullPage: true }).catch(() => {})
        }
        await context.tracing.stop({ path: join(dir, `${name}-trace.zip`) }).catch(() => {})
        await context.tracing.start({ screenshots: true, snapshots: true }).catch(() => {})
      }
    },
    async close() {
      for (const context of contexts.values()) await context.close().catch(() => {})
      await browser.close()
    },
  }
}

function safeName(text: string): string {
  return text.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 80)
}

export interface AxeViolation {
  id: string
  impact: string | null | undefined
  help: string
  nodes: string[]
}

/** Runs axe-core in the page (WCAG 2.x A and AA rules) and returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source)
  const results = await page.evaluate(async () => {
    const run = (window as unknown as { axe: typeof axe }).axe.run
    const r = await run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }))
  })
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}
