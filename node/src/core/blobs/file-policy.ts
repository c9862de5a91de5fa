import { fileTypeFromBuffer } from 'file-type'
export { formatBytes } from '../../../common/util/byte-size.js'

/** What the person set about files (Settings); defaults as Signal and WhatsApp ship them, roughly. */
export interface FileSettings {
  /** Files up to this size download by themselves when a member's device has them. */
  autoDownloadPeerBytes: number
  /** The same when a relay is the only source (slower, and someone's quota). */
  autoDownloadRelayBytes: number
  /** The largest file this device sends. */
  maxFileBytes: number
  /** How much room received files may take here (bytes; 0: no limit); the least recently used go beyond it. */
  keepReceivedBytes: number
}

const MiB = 1024 * 1024
/** The room for received files: 0 (no limit), or from 1 MiB (the app offers 1 GiB and up) to 1 PiB. */
export const MIN_KEEP_RECEIVED_BYTES = MiB
export const MAX_KEEP_RECEIVED_BYTES = 2 ** 50
export const DEFAULT_FILE_SETTINGS: FileSettings = {
  autoDownloadPeerBytes: 25 * MiB,
  autoDownloadRelayBytes: 5 * MiB,
  maxFileBytes: 100 * MiB,
  // Ten thousand photos at the 2048 px the app sends: a family's years, a small share of a laptop's disk.
  keepReceivedBytes: 10 * 1024 * MiB,
}

/** Bytes of a file's head `file-type` needs to recognise every type it knows. */
export const SNIFF_BYTES = 4100

/** The file's type from its first bytes; never from its name. application/octet-stream when unknown. */
export async function sniffMime(head: Uint8Array): Promise<string> {
  if (head.length === 0) return 'application/octet-stream'
  const found = await fileTypeFromBuffer(head)
  if (found !== undefined) return found.mime
  return looksLikeText(head) ? 'text/plain' : 'application/octet-stream'
}

/** UTF-8 with no control characters other than tab and line breaks (a text file, a CSV, source code). */
function looksLikeText(head: Uint8Array): boolean {
  // The head may end inside a multi-byte character: decode leniently, then look for what text files never hold.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head)
  return !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text.slice(0, -1))
}

/** Images the app shows inline: the ones every Chromium decodes. Anything else is a file card. */
const SHOWN_IMAGES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/bmp'])
export const isShownImage = (mime: string): boolean => SHOWN_IMAGES.has(mime)

/** Types that can run code when opened: the app warns before opening or saving one, as Signal does. */
const RISKY_MIMES = new Set([
  'application/x-msdownload',
  'application/x-ms-installer',
  'application/x-msi',
  'application/vnd.microsoft.portable-executable',
  'application/x-executable',
  'application/x-elf',
  'application/x-mach-binary',
  'application/x-sh',
  'application/x-shellscript',
  'application/java-archive',
  'application/x-apple-diskimage',
  'application/vnd.debian.binary-package',
  'application/x-rpm',
  'application/x-xar',
  'application/x-ms-shortcut',
  'text/html',
  'image/svg+xml',
])
const RISKY_EXTENSIONS =
  /\.(exe|msi|msix|appx|bat|cmd|com|scr|pif|cpl|hta|jar|js|jse|mjs|vbs|vbe|wsf|wsh|ps1|psm1|lnk|reg|sh|bash|zsh|command|app|dmg|pkg|deb|rpm|appimage|run|bin|html?|svg|desktop|apk|iso|img|vhd|vhdx)$/i

/** Whether opening the file could run code: its sniffed type or its name says so (either is enough). */
export function isRisky(name: string, mime: string): boolean {
  return RISKY_MIMES.has(mime) || RISKY_EXTENSIONS.test(name.trim())
}

/** A name safe to show and to save under: no path, no control or bidi-override characters, at most 255 characters. */
export function cleanFileName(name: string): string {
  const base = name.replace(/^.*[/\\]/, '')
  const clean = base.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').trim()
  const safe = clean === '' || clean === '.' || clean === '..' ? 'file' : clean
  return safe.length > 255 ? safe.slice(0, 255) : safe
}

/**
 * Whether a file downloads by itself: within the size the person set for where it would come from (a member's device,
 * or only a relay), and not larger than the room they keep for received files. Larger ones wait for a click.
 */
export function downloadsByItself(size: number, settings: FileSettings, peerSourceNow: boolean): boolean {
  if (settings.keepReceivedBytes > 0 && size > settings.keepReceivedBytes) return false
  return size <= (peerSourceNow ? settings.autoDownloadPeerBytes : settings.autoDownloadRelayBytes)
}
