/**
 * Opens a URL in the person's default browser, best effort: no browser (a server, CI, SSH) is normal and silent.
 * The URL goes to the opener as an argument, never through a shell.
 */
import { spawn } from 'node:child_process'

export function browserCommand(platform: NodeJS.Platform, url: string): { command: string; args: string[] } {
  switch (platform) {
    case 'darwin':
      return { command: 'open', args: [url] }
    case 'win32':
      // `start` is a cmd built-in; the empty string is its window-title argument, so the URL is not taken for one.
      return { command: 'cmd', args: ['/c', 'start', '""', url.replace(/&/g, '^&')] }
    default:
      return { command: 'xdg-open', args: [url] }
  }
}

export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): void {
  // On Linux without a display there is no browser to open (and xdg-open would start a text browser in this terminal).
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return
  const { command, args } = browserCommand(platform, url)
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true })
    child.on('error', () => {})
    child.unref()
  } catch {
    // No opener: the printed address is enough.
  }
}
