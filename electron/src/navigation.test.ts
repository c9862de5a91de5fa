import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { contentSecurityPolicy, CSP_DIRECTIVES, securityHeaders } from './csp.js'
import { guardSession, guardWebContents, mayLoad, type GuardedContents, type GuardedSession, type NavigationEvent } from './guards.js'
import { APP_ENTRY_URL, APP_ORIGIN, externalUrl, isAppUrl, mayGrantPermission, mayNavigate, windowOpenDecision } from './navigation-policy.js'
import { secureWebPreferences } from './window-options.js'

const AWAY = [
  'https://evil.example/',
  'http://127.0.0.1:8080/',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'app://other/index.html',
  'app://hearth:8080/index.html',
  'app://user:pw@hearth/index.html',
  'hearth://join/abc',
  'about:blank',
  'chrome://settings',
  'devtools://devtools/bundled/inspector.html',
  '',
  'not a url',
]

describe('navigation policy', () => {
  it('lets the window move only within the app', () => {
    expect(mayNavigate(APP_ENTRY_URL)).toBe(true)
    expect(mayNavigate('app://hearth/')).toBe(true)
    expect(mayNavigate('app://hearth/index.html#/chat/1')).toBe(true)
    // Exact host match: Chromium canonicalizes a standard scheme's host to lowercase before we see it.
    expect(mayNavigate('app://HEARTH/index.html')).toBe(false)
    for (const url of AWAY) expect(mayNavigate(url), url).toBe(false)
    expect(mayNavigate(undefined)).toBe(false)
  })

  it('opens only http(s) links without credentials in the browser', () => {
    expect(externalUrl('https://example.org/a?b=c#d')).toBe('https://example.org/a?b=c#d')
    expect(externalUrl('http://example.org')).toBe('http://example.org/')
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://server/share',
      'ms-msdt:/id PCWDiagnostic',
      'mailto:a@example.org',
      'app://hearth/index.html',
      'https://user:pass@bank.example/',
      'https://bank.example@evil.example/',
      `https://example.org/${'x'.repeat(3000)}`,
      'hearth://join/x',
      42,
    ]) {
      expect(externalUrl(url), String(url)).toBeNull()
    }
  })

  it('never opens a new window', () => {
    expect(windowOpenDecision('https://example.org/')).toEqual({ action: 'deny', openExternally: 'https://example.org/' })
    expect(windowOpenDecision('app://hearth/index.html')).toEqual({ action: 'deny', openExternally: null })
    expect(windowOpenDecision('file:///')).toEqual({ action: 'deny', openExternally: null })
  })

  it('grants no permission but clipboard writes from the app itself', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'midi', 'clipboard-read', 'openExternal', 'fullscreen', 'unknown']) {
      expect(mayGrantPermission(permission, APP_ENTRY_URL), permission).toBe(false)
    }
    expect(mayGrantPermission('clipboard-sanitized-write', APP_ENTRY_URL)).toBe(true)
    expect(mayGrantPermission('clipboard-sanitized-write', 'https://evil.example/')).toBe(false)
    expect(mayGrantPermission('clipboard-sanitized-write', undefined)).toBe(false)
  })

  it('knows its own origin', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true)
    expect(isAppUrl('app://hearth.evil/')).toBe(false)
  })
})

/** A WebContents as far as the guards are concerned: events and the window-open handler. */
class FakeContents extends EventEmitter implements GuardedContents {
  openHandler: ((details: { url: string }) => { action: 'deny' }) | undefined
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }) {
    this.openHandler = handler
  }
  navigate(event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect', url: string): boolean {
    let prevented = false
    const e: NavigationEvent = { url, preventDefault: () => (prevented = true) }
    this.emit(event, e)
    return prevented
  }
}

describe('window guards', () => {
  function guarded() {
    const contents = new FakeContents()
    const shell = { openExternal: vi.fn(() => Promise.resolve()) }
    guardWebContents(contents, shell)
    return { contents, shell }
  }

  it('refuses navigation away from the app, and hands web links to the browser', () => {
    const { contents, shell } = guarded()
    for (const url of AWAY) expect(contents.navigate('will-navigate', url), url).toBe(true)
    expect(shell.openExternal.mock.calls).toEqual([['https://evil.example/'], ['http://127.0.0.1:8080/']])
    expect(contents.navigate('will-navigate', 'app://hearth/index.html')).toBe(false)
  })

  it('refuses frame navigations without opening them a second time', () => {
    const { contents, shell } = guarded()
    expect(contents.navigate('will-frame-navigate', 'https://evil.example/frame')).toBe(true)
    expect(contents.navigate('will-frame-navigate', 'app://hearth/index.html')).toBe(false)
    expect(shell.openExternal).not.toHaveBeenCalled()
  })

  it('refuses redirects away from the app without opening anything', () => {
    const { contents, shell } = guarded()
    expect(contents.navigate('will-redirect', 'https://evil.example/')).toBe(true)
    expect(shell.openExternal).not.toHaveBeenCalled()
  })

  it('denies window.open, opening only http(s) links in the browser', () => {
    const { contents, shell } = guarded()
    expect(contents.openHandler!({ url: 'https://example.org/' })).toEqual({ action: 'deny' })
    expect(contents.openHandler!({ url: 'app://hearth/index.html' })).toEqual({ action: 'deny' })
    expect(contents.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' })
    expect(shell.openExternal.mock.calls).toEqual([['https://example.org/']])
  })

  it('never attaches a webview', () => {
    const { contents } = guarded()
    const event = { preventDefault: vi.fn() }
    contents.emit('will-attach-webview', event, {}, {})
    expect(event.preventDefault).toHaveBeenCalled()
  })
})

describe('session guards', () => {
  type Headers = Record<string, string[]>
  function guarded() {
    const handlers: {
      request?: Parameters<GuardedSession['setPermissionRequestHandler']>[0]
      check?: Parameters<GuardedSession['setPermissionCheckHandler']>[0]
      device?: (details: unknown) => boolean
      beforeRequest?: (details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void
      headers?: (details: { url: string; responseHeaders?: Headers }, callback: (response: { responseHeaders?: Headers }) => void) => void
    } = {}
    const emitter = new EventEmitter()
    const session: GuardedSession = {
      setPermissionRequestHandler: (h) => (handlers.request = h),
      setPermissionCheckHandler: (h) => (handlers.check = h),
      setDevicePermissionHandler: (h) => (handlers.device = h),
      on: (event, listener) => emitter.on(event, listener),
      webRequest: {
        onBeforeRequest: (l) => (handlers.beforeRequest = l),
        onHeadersReceived: (l) => (handlers.headers = l),
      },
    }
    guardSession(session)
    return { handlers, emitter }
  }

  it('denies permission requests and checks by default', () => {
    const { handlers } = guarded()
    for (const permission of ['media', 'notifications', 'geolocation', 'openExternal']) {
      const callback = vi.fn()
      handlers.request!(null, permission, callback, { requestingUrl: APP_ENTRY_URL })
      expect(callback).toHaveBeenCalledWith(false)
      expect(handlers.check!(null, permission, 'app://hearth', { requestingUrl: APP_ENTRY_URL })).toBe(false)
    }
    expect(handlers.device!({ deviceType: 'usb' })).toBe(false)
  })

  it('cancels every request that is not the app itself', () => {
    const { handlers } = guarded()
    const decide = (url: string) => {
      let cancel: boolean | undefined
      handlers.beforeRequest!({ url }, (r) => (cancel = r.cancel))
      return cancel === true
    }
    for (const url of ['https://cdn.example/x.js', 'http://127.0.0.1:9000/', 'ws://127.0.0.1:9000/', 'file:///etc/hosts', 'ftp://x/']) {
      expect(decide(url), url).toBe(true)
    }
    for (const url of ['app://hearth/index.html', 'app://hearth/assets/a.js', 'data:image/png;base64,AAAA', 'blob:app://hearth/1234']) {
      expect(decide(url), url).toBe(false)
    }
    expect(mayLoad('blob:https://evil.example/1')).toBe(false)
  })

  it('puts our CSP on the app’s responses, replacing any other', () => {
    const { handlers } = guarded()
    let headers: Headers | undefined
    handlers.headers!({ url: APP_ENTRY_URL, responseHeaders: { 'content-security-policy': ["script-src *"], 'Content-Type': ['text/html'] } }, (r) => {
      headers = r.responseHeaders
    })
    expect(headers!['Content-Security-Policy']).toEqual([contentSecurityPolicy()])
    expect(headers!['content-security-policy']).toBeUndefined()
    expect(headers!['Content-Type']).toEqual(['text/html'])
    expect(headers!['X-Content-Type-Options']).toEqual(['nosniff'])
  })

  it('refuses downloads except a file the app itself saves (a blob: URL of its own origin)', () => {
    const { emitter } = guarded()
    for (const url of ['https://evil.example/x.exe', 'blob:https://evil.example/1234', 'file:///etc/passwd', `blob:${APP_ORIGIN}.evil/1`]) {
      const event = { preventDefault: vi.fn() }
      emitter.emit('will-download', event, { getURL: () => url })
      expect(event.preventDefault, url).toHaveBeenCalled()
    }
    const saved = { preventDefault: vi.fn() }
    emitter.emit('will-download', saved, { getURL: () => `blob:${APP_ORIGIN}/4b1c2f0e-0000-4000-8000-000000000000` })
    expect(saved.preventDefault).not.toHaveBeenCalled()
  })
})

describe('the Content-Security-Policy', () => {
  const policy = contentSecurityPolicy()

  it('has no inline script, no eval and no remote origin anywhere', () => {
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe-eval|strict-dynamic/)
    expect(policy).not.toMatch(/https?:|wss?:|\*|\bfile:/)
    for (const [directive, sources] of Object.entries(CSP_DIRECTIVES)) {
      for (const source of sources) expect(["'self'", "'none'", 'data:', 'blob:'], `${directive} ${source}`).toContain(source)
    }
  })

  it('is closed by default and allows scripts only from the app', () => {
    expect(CSP_DIRECTIVES['default-src']).toEqual(["'none'"])
    expect(CSP_DIRECTIVES['script-src']).toEqual(["'self'"])
    expect(CSP_DIRECTIVES['object-src']).toEqual(["'none'"])
    expect(CSP_DIRECTIVES['frame-ancestors']).toEqual(["'none'"])
    expect(CSP_DIRECTIVES['base-uri']).toEqual(["'none'"])
    expect(CSP_DIRECTIVES['form-action']).toEqual(["'none'"])
    // data: and blob: only where they cannot run code.
    for (const [directive, sources] of Object.entries(CSP_DIRECTIVES)) {
      if (sources.includes('data:') || sources.includes('blob:')) expect(directive).toBe('img-src')
    }
    expect(policy.startsWith("default-src 'none'; script-src 'self'")).toBe(true)
    expect(securityHeaders()['Content-Security-Policy']).toBe(policy)
  })
})

describe('the window’s web preferences', () => {
  it('sandbox, isolation, no Node, web security, no webview', () => {
    const prefs = secureWebPreferences({ preload: '/app/dist/electron/preload.cjs', devTools: false })
    expect(prefs).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      devTools: false,
    })
    expect(Object.keys(prefs)).not.toContain('enableBlinkFeatures')
  })
})
