/**
 * The Content-Security-Policy of the app's own pages, sent as a response header by the app:// protocol handler (and
 * on any response the session sees), so it holds even if the UI's HTML forgets its meta tag.
 *
 * Everything is same-origin: scripts and styles only from the packaged files (no inline script, no eval), no remote
 * origin of any kind, no frames, no plugins, no form posts. The core API does not go through the network at all (it is
 * a MessagePort), so `connect-src` needs nothing beyond the app's own files. Images may be data:/blob: URLs because
 * invite QR codes are drawn locally into them.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  // React sets style through the CSSOM (element.style), which CSP does not govern; stylesheets come from files.
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'media-src': ["'none'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'worker-src': ["'self'"],
  'manifest-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
}

export function contentSecurityPolicy(directives: Readonly<Record<string, readonly string[]>> = CSP_DIRECTIVES): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ')
}

/** Headers added to every response of the app's own origin. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  }
}
