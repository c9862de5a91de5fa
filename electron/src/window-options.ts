/**
 * The BrowserWindow's web preferences: the renderer is an untrusted web page (as Element Desktop treats its own), so it runs
 * sandboxed, context-isolated, without Node, with web security on, and with every feature we do not use turned off.
 * Kept apart from main.ts so a test can hold every flag in place.
 */
export interface SecureWebPreferences {
  preload: string
  sandbox: true
  contextIsolation: true
  nodeIntegration: false
  nodeIntegrationInWorker: false
  nodeIntegrationInSubFrames: false
  webSecurity: true
  allowRunningInsecureContent: false
  webviewTag: false
  experimentalFeatures: false
  navigateOnDragDrop: false
  safeDialogs: true
  spellcheck: boolean
  devTools: boolean
}

export function secureWebPreferences(options: { preload: string; devTools: boolean }): SecureWebPreferences {
  return {
    preload: options.preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    // Dropping a file or link on the window must not navigate it away from the app.
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: true,
    // Only unpackaged (development) builds get developer tools.
    devTools: options.devTools,
  }
}
