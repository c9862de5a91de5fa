/**
 * "Open" of a received file. On the desktop the shell does it (window.hearth.openFile: main writes the file under
 * Downloads/Hearth and opens it with the system's app, or only shows it in its folder when it could run code). In a
 * browser a file can only be shown in a tab of our own origin, so only types a tab shows without running anything
 * open there: photos the page shows anyway, PDF (the browser's own viewer) and plain text, served as text/plain. Any
 * other type is saved instead, as Save does.
 */

export interface OpenFileRef {
  conversationId: string
  messageId: string
  index: number
}

/** What the desktop shell's Open answers: opened with the system's app, or only shown in its folder. */
export type DesktopOpen = (ref: OpenFileRef) => Promise<{ action: 'opened' | 'shown' }>

/** The desktop shell's Open, when the page runs in it. */
export function desktopOpener(): DesktopOpen | null {
  const bridge = typeof window === 'undefined' ? undefined : window.hearth
  const open = bridge?.openFile
  return typeof open === 'function' ? (ref) => open.call(bridge, ref) : null
}

const INLINE_TYPES = new Map([
  ['image/jpeg', 'image/jpeg'],
  ['image/png', 'image/png'],
  ['image/gif', 'image/gif'],
  ['image/webp', 'image/webp'],
  ['image/avif', 'image/avif'],
  ['image/bmp', 'image/bmp'],
  ['application/pdf', 'application/pdf'],
  // Sniffed as text: shown as text, whatever it holds (a text/plain document never runs script).
  ['text/plain', 'text/plain;charset=utf-8'],
])

/** The type a tab may show the file as, or null when it must be saved instead. Never HTML, SVG or XML. */
export function inlineType(mime: string): string | null {
  return INLINE_TYPES.get(mime) ?? null
}

/** A tab opened in the click, shown the file once it is read. */
export interface PendingTab {
  show(url: string): void
  close(): void
}

export interface TabTarget {
  /**
   * An empty tab opened now, inside the person's click (a tab opened after the file is read would be blocked as a
   * pop-up); null when the browser refused it.
   */
  openBlank(): PendingTab | null
  createUrl(blob: Blob): string
  revokeUrl(url: string): void
}

export const browserTabTarget: TabTarget = {
  openBlank() {
    const tab = window.open('', '_blank')
    if (tab === null) return null
    // The file's tab has no way back to the app.
    tab.opener = null
    return {
      show: (url) => tab.location.replace(url),
      close: () => tab.close(),
    }
  },
  createUrl: (blob) => URL.createObjectURL(blob),
  revokeUrl: (url) => URL.revokeObjectURL(url),
}

/** Shows `blob` in a tab opened earlier, as `type`; the URL is revoked once the tab has surely loaded it. */
export function showInTab(tab: PendingTab, blob: Blob, type: string, target: TabTarget = browserTabTarget): void {
  const url = target.createUrl(new Blob([blob], { type }))
  tab.show(url)
  setTimeout(() => target.revokeUrl(url), 60_000)
}
