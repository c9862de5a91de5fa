/**
 * What the browser mode remembers between runs, in `<data dir>/browser.json` (0600, like api.json): the UI port and
 * the API's session token. Reusing both is what lets a tab that was open when Hearth stopped find it again on its own
 * after `npm start` (same origin, so the same sessionStorage, and a token the restarted server still accepts), without
 * ever putting the token in a URL. ADR 0016 weighs this against the alternatives.
 *
 * The token is renewed after BROWSER_TOKEN_MAX_AGE_MS, so one that leaked (a browser's saved session, a copied data
 * dir) stops working; a tab then asks the person to run `npm start` again. The file is read defensively: anything
 * malformed is ignored and a new token is made.
 */
import { join } from 'node:path'
import { z } from 'zod'
import { generateApiToken } from '../api/ws-server.js'
import { readJson, writeAtomic } from '../cli/state-files.js'

export const BROWSER_TOKEN_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000

const schema = z.strictObject({
  v: z.literal(1),
  port: z.number().int().min(1).max(65535),
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  createdAt: z.number().int().nonnegative(),
})

export interface BrowserSession {
  /** The port to try first; undefined on a first run. */
  port: number | undefined
  token: string
  /** When this token was made (epoch ms). */
  createdAt: number
}

export const browserSessionPath = (dataDir: string) => join(dataDir, 'browser.json')

/** The remembered port and token, or a new token (and no port) when there is none, it is malformed or too old. */
export async function loadBrowserSession(dataDir: string, now: number = Date.now()): Promise<BrowserSession> {
  const file = await readJson(browserSessionPath(dataDir), schema)
  if (file === undefined) return { port: undefined, token: generateApiToken(), createdAt: now }
  // A clock set back must not keep a token forever: an age below zero counts as too old too.
  const age = now - file.createdAt
  if (age < 0 || age > BROWSER_TOKEN_MAX_AGE_MS) return { port: file.port, token: generateApiToken(), createdAt: now }
  return { port: file.port, token: file.token, createdAt: file.createdAt }
}

export function saveBrowserSession(dataDir: string, session: { port: number; token: string; createdAt: number }): Promise<void> {
  return writeAtomic(browserSessionPath(dataDir), { v: 1, port: session.port, token: session.token, createdAt: session.createdAt })
}
