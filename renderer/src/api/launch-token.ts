/**
 * The browser mode's way in. The launcher opens `http://127.0.0.1:<port>/#launch=<code>`: a one-time code that lives a
 * minute, never the API token (process arguments and browser command lines are readable by other local users). The page
 * takes the code out of the address bar at once, trades it for the token with a same-origin POST /launch (the server
 * burns it on first use, right or wrong), and keeps the token in sessionStorage for reloads of this tab (same origin
 * only, gone when the tab closes; the strict CSP keeps foreign script out of the page). The server remembers its port
 * and token across restarts (node/src/app/browser-session.ts), so this tab finds it again after `npm start`.
 */
import { HearthError } from '../../../node/common/errors.js'

const STORAGE_KEY = 'hearth.apiToken'
const API_KEY = 'hearth.apiUrl'
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/
const CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** What to tell a person whose link cannot be used any more. */
export const NEW_LINK_HINT = 'Run npm start again: it opens Hearth with a new link.'

export interface TokenEnvironment {
  location: { hash: string; pathname: string; search: string }
  history: { replaceState(data: unknown, unused: string, url?: string): void }
  storage: Pick<Storage, 'getItem' | 'setItem'>
}

export interface LaunchParameters {
  /** A launch code from the address, to trade for the token; null when the address had none. */
  code: string | null
  /** The token this tab already holds (a reload, or a tab that reconnects after a restart). */
  token: string | null
  /** Development only: the core API's URL when the page comes from the Vite dev server (another port). */
  api: string | null
}

export function takeLaunchParameters(env: TokenEnvironment): LaunchParameters {
  const fragment = new URLSearchParams(env.location.hash.replace(/^#/, ''))
  const fromUrl = fragment.get('launch')
  const apiFromUrl = fragment.get('api')
  if (fromUrl !== null || apiFromUrl !== null || fragment.has('token')) {
    // Drop the fragment whatever it held: a code is spent once read, and the address bar should never show a secret.
    env.history.replaceState(null, '', env.location.pathname + env.location.search)
  }
  if (apiFromUrl !== null && /^ws:\/\/127\.0\.0\.1:\d{1,5}\/?$/.test(apiFromUrl)) env.storage.setItem(API_KEY, apiFromUrl)
  const stored = env.storage.getItem(STORAGE_KEY)
  return {
    code: fromUrl !== null && CODE_PATTERN.test(fromUrl) ? fromUrl : null,
    token: stored !== null && TOKEN_PATTERN.test(stored) ? stored : null,
    api: env.storage.getItem(API_KEY),
  }
}

export function keepToken(storage: Pick<Storage, 'setItem'>, token: string): void {
  storage.setItem(STORAGE_KEY, token)
}

type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; credentials: 'omit'; cache: 'no-store' }) => Promise<{ status: number; json(): Promise<unknown>; headers: { get(name: string): string | null } }>

/**
 * Trades a launch code for the API token at `launchUrl` (POST /launch of the page's own origin, or of the API's origin
 * under the dev server). A used, expired or wrong code is refused with a message that says how to get a new link; a
 * rate-limited attempt waits as the server asks (a few times) and tries again.
 */
export async function exchangeLaunchCode(launchUrl: string, code: string, fetchFn: Fetch = fetch, sleep = defaultSleep): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    let response
    try {
      response = await fetchFn(launchUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
        credentials: 'omit',
        cache: 'no-store',
      })
    } catch {
      throw new HearthError('UNREACHABLE', `Cannot reach Hearth. If you stopped it, start it again: ${NEW_LINK_HINT}`)
    }
    if (response.status === 429 && attempt < 5) {
      await sleep(Math.min(10, Math.max(1, Number(response.headers.get('retry-after')) || 1)) * 1000)
      continue
    }
    if (response.status === 200) {
      const body = (await response.json().catch(() => null)) as { token?: unknown } | null
      const token = body?.token
      if (typeof token === 'string' && TOKEN_PATTERN.test(token)) return token
      throw new HearthError('UNAUTHORIZED', `Hearth gave this page no usable access key. ${NEW_LINK_HINT}`)
    }
    const reason = ((await response.json().catch(() => null)) as { error?: unknown } | null)?.error
    if (reason === 'used') throw new HearthError('UNAUTHORIZED', `This link was already used: each link opens Hearth once. ${NEW_LINK_HINT}`)
    if (reason === 'expired') throw new HearthError('UNAUTHORIZED', `This link has expired: a link works for one minute. ${NEW_LINK_HINT}`)
    throw new HearthError('UNAUTHORIZED', `This link is not valid for this Hearth. ${NEW_LINK_HINT}`)
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** POST /launch of the server the API lives on: the page's own origin, or the API's when the dev server serves the page. */
export function launchEndpoint(apiUrl: string): string {
  const url = new URL(apiUrl)
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}/launch`
}
