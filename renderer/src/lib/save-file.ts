/**
 * Saving a received file where the person chooses: the page hands the browser a blob: URL with a `download` name, and
 * the browser asks where to put it. The bytes are the decrypted file from the core; the name is the sender's, cleaned
 * so it cannot name a folder or hide its real extension behind direction marks.
 */

/** The sender's file name made safe to offer as a download name. */
export function downloadName(name: string): string {
  const cleaned = name
    // Path separators, control characters and the bidi controls that can disguise "gpj.exe" as "exe.jpg".
    .replace(/[\\/:*?"<>|\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069\u200e\u200f]/g, '_')
    .replace(/^\.+/, '_')
    .trim()
  return cleaned.length > 0 ? cleaned.slice(0, 255) : 'file'
}

export interface SaveTarget {
  createUrl(blob: Blob): string
  revokeUrl(url: string): void
  click(url: string, name: string): void
}

export const browserSaveTarget: SaveTarget = {
  createUrl: (blob) => URL.createObjectURL(blob),
  revokeUrl: (url) => URL.revokeObjectURL(url),
  click(url, name) {
    const a = document.createElement('a')
    a.href = url
    a.download = name
    a.rel = 'noopener'
    document.body.append(a)
    a.click()
    a.remove()
  },
}

export function saveBlob(blob: Blob, name: string, target: SaveTarget = browserSaveTarget): void {
  const url = target.createUrl(blob)
  try {
    target.click(url, downloadName(name))
  } finally {
    // The download has its own copy of the bytes once started; a minute is ample for the browser to begin.
    setTimeout(() => target.revokeUrl(url), 60_000)
  }
}
