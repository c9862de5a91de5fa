/**
 * The security handlers of the window and its session, attached by main.ts to every WebContents and to the default
 * session. They only use the decisions in navigation-policy.ts and csp.ts, through structural types, so a test can
 * attach them to fakes and check that navigation away from the app, new windows, webviews, downloads, permission
 * requests and remote requests are refused.
 */
import { drop } from '../../node/common/errors.js'
import { securityHeaders } from './csp.js'
import { APP_ORIGIN, externalUrl, isAppUrl, mayGrantPermission, mayNavigate, windowOpenDecision } from './navigation-policy.js'

export interface ShellLike {
  openExternal(url: string): Promise<void>
}

interface Preventable {
  preventDefault(): void
}

export interface NavigationEvent extends Preventable {
  url: string
}

/** The part of Electron's WebContents the guards attach to. */
export interface GuardedContents {
  on(event: 'will-navigate', listener: (event: NavigationEvent) => void): unknown
  on(event: 'will-frame-navigate', listener: (event: NavigationEvent) => void): unknown
  on(event: 'will-redirect', listener: (event: NavigationEvent) => void): unknown
  on(event: 'will-attach-webview', listener: (event: Preventable) => void): unknown
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
}

/**
 * Every navigation that would leave the app is cancelled (an http(s) link goes to the browser instead); every new
 * window is denied (likewise); `<webview>` is never attached.
 */
export function guardWebContents(contents: GuardedContents, shell: ShellLike, onError: (err: unknown) => void = () => {}): void {
  const refuse = (event: NavigationEvent): void => {
    if (!mayNavigate(event.url)) event.preventDefault()
  }
  contents.on('will-navigate', (event) => {
    // A link the person followed in the main frame: refused here, opened in the browser when it is a web link.
    if (mayNavigate(event.url)) return
    event.preventDefault()
    const external = externalUrl(event.url)
    if (external !== null) drop(shell.openExternal(external), onError)
  })
  // Electron also emits will-frame-navigate for the main frame's navigations (after will-navigate): refuse only, so a
  // link is not opened twice. Subframes and redirects are never opened outside: they are not the person's click.
  contents.on('will-frame-navigate', refuse)
  contents.on('will-redirect', refuse)
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    const decision = windowOpenDecision(url)
    if (decision.openExternally !== null) drop(shell.openExternal(decision.openExternally), onError)
    return { action: decision.action }
  })
}

type Headers = Record<string, string[]>

/** The part of Electron's Session the guards configure. */
export interface GuardedSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void, details: { requestingUrl?: string }) => void,
  ): void
  setPermissionCheckHandler(
    handler: (contents: unknown, permission: string, requestingOrigin: string, details: { requestingUrl?: string }) => boolean,
  ): void
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void
  on(event: 'will-download', listener: (event: Preventable, item: { getURL(): string }) => void): unknown
  webRequest: {
    onBeforeRequest(listener: (details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void): void
    onHeadersReceived(
      listener: (details: { url: string; responseHeaders?: Headers }, callback: (response: { responseHeaders?: Headers }) => void) => void,
    ): void
  }
}

/**
 * Only the app's own origin (plus data:/blob: it creates itself, and devtools in development) may be loaded: nothing
 * remote, nothing from `file:`. This holds even if the CSP were somehow bypassed.
 */
export function mayLoad(url: string): boolean {
  if (isAppUrl(url)) return true
  if (url.startsWith('data:') || url.startsWith(`blob:${APP_ORIGIN}/`)) return true
  return url.startsWith('devtools://')
}

/** A blob: URL the app's page made (its files, decrypted by the core and saved by the person). */
export function isOwnBlobUrl(url: string): boolean {
  return url.startsWith(`blob:${APP_ORIGIN}/`)
}

export function guardSession(session: GuardedSession): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(mayGrantPermission(permission, details.requestingUrl)),
  )
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    mayGrantPermission(permission, details.requestingUrl ?? requestingOrigin),
  )
  // HID, serial, USB: a messenger never needs a device.
  session.setDevicePermissionHandler(() => false)
  // Only "Save" of a photo or file: bytes the page itself decrypted and handed over as a blob: URL of the app's own
  // origin. Electron then asks where to save it (no save path is set). Anything else (a link, a remote URL) is refused.
  session.on('will-download', (event, item) => {
    if (!isOwnBlobUrl(item.getURL())) event.preventDefault()
  })
  session.webRequest.onBeforeRequest((details, callback) => callback(mayLoad(details.url) ? {} : { cancel: true }))
  session.webRequest.onHeadersReceived((details, callback) => {
    if (!isAppUrl(details.url)) {
      callback({})
      return
    }
    const headers: Headers = { ...details.responseHeaders }
    for (const [name, value] of Object.entries(securityHeaders())) {
      // Replace any variant spelling so there is exactly one policy: ours.
      for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key]
      headers[name] = [value]
    }
    callback({ responseHeaders: headers })
  })
}
