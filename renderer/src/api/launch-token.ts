/**
 * The browser mode's API token. The launcher opens `http://127.0.0.1:<port>/#token=<token>`: a fragment is never
 * sent to a server, so the token stays out of HTTP requests and logs. The page takes it once, keeps it in
 * sessionStorage for reloads of this tab (same origin only, gone when the tab closes; the strict CSP keeps foreign
 * script out of the page), and removes it from the address bar so it is not bookmarked, shared or kept in history.
 */
const STORAGE_KEY = 'hearth.apiToken'
const API_KEY = 'hearth.apiUrl'
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/

export interface TokenEnvironment {
  location: { hash: string; pathname: string; search: string }
  history: { replaceState(data: unknown, unused: string, url?: string): void }
  storage: Pick<Storage, 'getItem' | 'setItem'>
}

export interface LaunchParameters {
  token: string | null
  /** Development only: the core API's URL when the page comes from the Vite dev server (another port). */
  api: string | null
}

export function takeLaunchParameters(env: TokenEnvironment): LaunchParameters {
  const fragment = new URLSearchParams(env.location.hash.replace(/^#/, ''))
  const fromUrl = fragment.get('token')
  const apiFromUrl = fragment.get('api')
  if (fromUrl !== null || apiFromUrl !== null) {
    // Drop the fragment whatever it held: the address bar should never show a credential.
    env.history.replaceState(null, '', env.location.pathname + env.location.search)
  }
  if (apiFromUrl !== null && /^ws:\/\/127\.0\.0\.1:\d{1,5}\/?$/.test(apiFromUrl)) env.storage.setItem(API_KEY, apiFromUrl)
  const api = env.storage.getItem(API_KEY)
  if (fromUrl !== null && TOKEN_PATTERN.test(fromUrl)) {
    env.storage.setItem(STORAGE_KEY, fromUrl)
    return { token: fromUrl, api }
  }
  const stored = env.storage.getItem(STORAGE_KEY)
  return { token: stored !== null && TOKEN_PATTERN.test(stored) ? stored : null, api }
}
