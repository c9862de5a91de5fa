/**
 * Where the window may go. The renderer is treated as an untrusted web page (element-desktop's posture): it shows
 * text written by other people, so a bug in the UI could let a crafted message try to navigate the window or open
 * another one. The window only ever shows the app itself, from one fixed origin; everything else is refused, and
 * ordinary web links are handed to the person's browser instead.
 */

/** The app's own origin (a privileged custom scheme served from the packaged files, see app-protocol.ts). */
export const APP_SCHEME = 'app'
export const APP_HOST = 'hearth'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`

const MAX_EXTERNAL_URL_CHARS = 2048

function parse(url: unknown): URL | null {
  if (typeof url !== 'string' || url.length > MAX_EXTERNAL_URL_CHARS * 2) return null
  try {
    return new URL(url)
  } catch {
    return null
  }
}

/** True for a URL of the app itself (same scheme and host, no credentials, default port). */
export function isAppUrl(url: unknown): boolean {
  const parsed = parse(url)
  if (parsed === null) return false
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.hostname === APP_HOST &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === ''
  )
}

/**
 * `will-navigate` / `will-frame-navigate` / `will-redirect`: the window may only move within the app (a reload, an
 * in-app route). Anything else is refused; the caller may offer the URL to `externalUrl` to open it in the browser.
 */
export function mayNavigate(url: unknown): boolean {
  return isAppUrl(url)
}

/**
 * The URL to hand to `shell.openExternal`, or null. Only http(s) with a host and no embedded credentials (a
 * `user:pass@` part is a classic way to dress a link up as another site); `file:`, `javascript:`, custom schemes and
 * the app's own origin are never opened outside.
 */
export function externalUrl(url: unknown): string | null {
  const parsed = parse(url)
  if (parsed === null) return null
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null
  if (parsed.hostname === '' || parsed.username !== '' || parsed.password !== '') return null
  const normalized = parsed.toString()
  return normalized.length <= MAX_EXTERNAL_URL_CHARS ? normalized : null
}

export type WindowOpenDecision = { action: 'deny'; openExternally: string | null }

/** `setWindowOpenHandler`: never a new Electron window; a web link goes to the browser. */
export function windowOpenDecision(url: unknown): WindowOpenDecision {
  return { action: 'deny', openExternally: externalUrl(url) }
}

/**
 * Permission requests and checks from the renderer: refused by default. Notifications are shown by the main process,
 * never by the page, and a text messenger needs no camera, microphone, location or MIDI. The one exception is writing
 * plain text to the clipboard (the "copy invite link" button), and only for the app's own origin; reading the
 * clipboard stays refused (pasting goes through the ordinary paste command).
 */
const GRANTABLE = new Set(['clipboard-sanitized-write'])

export function mayGrantPermission(permission: string, requestingUrl: unknown): boolean {
  return GRANTABLE.has(permission) && isAppUrl(requestingUrl)
}
