/**
 * "Open" of a received file on the desktop. The page asks over one narrow IPC channel (IPC.openFile) with nothing but
 * which file: `{ conversationId, messageId, index }`, checked strictly here. Everything else comes from the core, not
 * from the page: main asks the core what the file is (files.info), reserves a fresh name in `<Downloads>/Hearth`
 * built from the sender's name made safe (never a path from a peer), has the core write the decrypted file there
 * (files.save), and then hands it to the system:
 *
 *   - a type the system would run or interpret (executables, scripts, installers, shortcuts, HTML, SVG…), or a name
 *     with no extension (the system would guess from the bytes), is only shown in its folder: the app never runs it;
 *   - anything else is opened with the person's default app for it (`shell.openPath`).
 *
 * The page warns before a risky file is opened (the person confirms), but this side does not rely on it: whatever the
 * page says, a risky file is never opened. Nothing here touches Node or Electron: main injects the file system and
 * the shell, so the decisions are tested on their own. The request check is also used by the preload bridge.
 */
import { HearthError } from '../../node/common/errors.js'
import type { AttachmentView } from '../../node/src/api/types.js'

export interface OpenFileRequest {
  conversationId: string
  messageId: string
  index: number
}

/** Files in one message (the API contract's MAX_ATTACHMENTS_PER_MESSAGE; a test keeps them equal). */
export const MAX_FILES_PER_MESSAGE = 10
const ID = /^[0-9a-f]{32}$/
const REQUEST_KEYS = ['conversationId', 'index', 'messageId']

/** The request as the page sent it, or null: a plain object with exactly these three well-formed fields. */
export function parseOpenFileRequest(raw: unknown): OpenFileRequest | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null
  const proto: unknown = Object.getPrototypeOf(raw)
  if (proto !== Object.prototype && proto !== null) return null
  if (Reflect.ownKeys(raw).map(String).sort().join() !== REQUEST_KEYS.join()) return null
  const { conversationId, messageId, index } = raw as Record<string, unknown>
  if (typeof conversationId !== 'string' || !ID.test(conversationId)) return null
  if (typeof messageId !== 'string' || !ID.test(messageId)) return null
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= MAX_FILES_PER_MESSAGE) return null
  return { conversationId, messageId, index }
}

/** Extensions a desktop runs, installs or interprets when the file is opened (Windows, macOS and Linux together). */
const RISKY_EXTENSIONS = new Set([
  'exe', 'msi', 'msix', 'msp', 'appx', 'appxbundle', 'bat', 'cmd', 'com', 'scr', 'pif', 'cpl', 'vbs', 'vbe', 'js', 'jse',
  'mjs', 'cjs', 'wsf', 'wsh', 'ws', 'ps1', 'psm1', 'psd1', 'hta', 'lnk', 'reg', 'jar', 'jnlp', 'app', 'dmg', 'pkg',
  'mpkg', 'command', 'tool', 'terminal', 'workflow', 'sh', 'bash', 'zsh', 'csh', 'ksh', 'fish', 'run', 'deb', 'rpm',
  'appimage', 'snap', 'flatpakref', 'desktop', 'html', 'htm', 'xhtml', 'shtml', 'mht', 'mhtml', 'svg', 'svgz', 'xml',
  'xsl', 'py', 'pyw', 'pl', 'rb', 'php', 'lua', 'docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'pptm', 'potm', 'ppam', 'iso',
  'img', 'vhd', 'vhdx', 'apk', 'url', 'webloc', 'inetloc', 'fileloc', 'inf', 'scf', 'library-ms', 'settingcontent-ms',
  'search-ms', 'bin', 'elf', 'out', 'so', 'dll', 'dylib', 'sys', 'drv', 'ocx', 'gadget', 'msc', 'application', 'chm',
  'hlp', 'ins', 'isp', 'job', 'msh', 'mst', 'ade', 'adp', 'mde', 'mdb', 'accde', 'crx', 'xpi', 'vsix', 'kext', 'prefpane',
  'scpt', 'applescript', 'action', 'osx', 'xbap', 'wsc', 'sct', 'cer', 'crt', 'der', 'p7b', 'ica', 'rdp',
])
const RISKY_MIME =
  /x-msdownload|x-dosexec|x-executable|x-mach-binary|x-sharedlib|x-elf|x-sh\b|shellscript|javascript|ecmascript|text\/html|xhtml|image\/svg|x-msi|ms-installer|portable-executable|java-archive|vnd\.android|x-apple-diskimage|debian\.binary|x-rpm|x-xar|ms-shortcut|x-python|x-perl|x-php|text\/xml|application\/xml/

/** The extension of a name, lower case, without the dot ('' when it has none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase()
}

/**
 * What "Open" does with a complete file: 'open' it with the system's app for its type, or only 'reveal' it in its
 * folder. Risky by the core's mark, by its sniffed type or by its name's extension (either is enough: the system goes
 * by the name), or with no extension at all: revealed.
 */
export function openAction(name: string, mime: string, riskyByCore: boolean): 'open' | 'reveal' {
  if (riskyByCore || RISKY_MIME.test(mime)) return 'reveal'
  const ext = extensionOf(name)
  if (ext === '' || RISKY_EXTENSIONS.has(ext)) return 'reveal'
  return 'open'
}

/** Longest name written, in UTF-8 bytes (file systems allow 255; " (999)" must still fit). */
const MAX_NAME_BYTES = 200
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i

/**
 * A file name safe to create from the sender's name, on every desktop: no folder part, no character a file system
 * refuses or that disguises the name (controls, bidi and zero-width marks), no leading dot (hidden, or "..") and no
 * trailing dot or space (Windows drops them), not a Windows device name, at most MAX_NAME_BYTES, and never empty.
 */
export function safeFileName(name: string): string {
  const base = name.normalize('NFC').replace(/^.*[/\\]/, '')
  let clean = base
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '')
    .replace(/[<>:"/\\|?*]/g, '_')
    .replace(/^[\s.]+/, '')
    .replace(/[\s.]+$/, '')
  const ext = extensionOf(clean)
  const stem = ext === '' ? clean : clean.slice(0, -(ext.length + 1))
  if (WINDOWS_RESERVED.test(stem.replace(/\..*$/, '').trim())) clean = `_${clean}`
  clean = fitBytes(clean, MAX_NAME_BYTES)
  return clean === '' ? 'file' : clean
}

/** Shortens the stem (keeping a short extension) until the name fits in `max` UTF-8 bytes, never splitting a character. */
function fitBytes(name: string, max: number): string {
  const encoder = new TextEncoder()
  if (encoder.encode(name).length <= max) return name
  const ext = extensionOf(name)
  const suffix = ext !== '' && ext.length <= 16 ? `.${ext}` : ''
  const chars = [...(suffix === '' ? name : name.slice(0, -suffix.length))]
  while (chars.length > 0 && encoder.encode(chars.join('') + suffix).length > max) chars.pop()
  return (chars.join('').replace(/[\s.]+$/, '') || 'file') + suffix
}

/** The n-th alternative of a name: "report (2).pdf". */
export function numberedName(name: string, n: number): string {
  if (n <= 1) return name
  const ext = extensionOf(name)
  return ext === '' ? `${name} (${n})` : `${name.slice(0, -(ext.length + 1))} (${n}).${ext}`
}

export interface OpenFileDeps {
  /** The file as the core describes it now (API files.info). */
  describe(ref: OpenFileRequest): Promise<AttachmentView>
  /** The core writes the decrypted file to `path` (API files.save). */
  save(ref: OpenFileRequest, path: string): Promise<void>
  /** The folder opened files go to (created if missing). */
  folder: string
  mkdir(path: string): Promise<void>
  join(folder: string, name: string): string
  /** Creates `path` empty, failing with code EEXIST if anything is there (no symlink is followed). */
  createNew(path: string): Promise<void>
  remove(path: string): Promise<void>
  /** Electron's shell.openPath: resolves with '' or an error text. */
  openPath(path: string): Promise<string>
  showItemInFolder(path: string): void
}

export interface OpenFileResult {
  /** 'opened' with the system's app, or only 'shown' in its folder. */
  action: 'opened' | 'shown'
}

const MAX_NAME_TRIES = 1000

/** One "Open" request from the page, end to end. Rejects with a HearthError the page can show. */
export async function openReceivedFile(deps: OpenFileDeps, raw: unknown): Promise<OpenFileResult> {
  const ref = parseOpenFileRequest(raw)
  if (ref === null) throw new HearthError('INVALID_INPUT', 'not a file of a message')
  const file = await deps.describe(ref)
  if (file.state !== 'complete') throw new HearthError('NOT_FOUND', `“${safeFileName(file.name)}” is not on this device yet`)
  await deps.mkdir(deps.folder)
  const name = safeFileName(file.name)
  const path = await reserve(deps, name)
  try {
    await deps.save(ref, path)
  } catch (err) {
    await deps.remove(path).catch(() => undefined)
    throw err
  }
  // Judged by the name written too: the system goes by that one ("a.exe." or "a.exe\u200b" are written as "a.exe").
  const risky = openAction(file.name, file.mime, file.risky === true) === 'reveal' || openAction(name, file.mime, false) === 'reveal'
  if (risky) {
    deps.showItemInFolder(path)
    return { action: 'shown' }
  }
  const problem = await deps.openPath(path)
  if (problem !== '') {
    // No app for it (or the system refused): the person still finds it where it was saved.
    deps.showItemInFolder(path)
    return { action: 'shown' }
  }
  return { action: 'opened' }
}

async function reserve(deps: OpenFileDeps, name: string): Promise<string> {
  for (let n = 1; n <= MAX_NAME_TRIES; n++) {
    const path = deps.join(deps.folder, numberedName(name, n))
    try {
      await deps.createNew(path)
      return path
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err
    }
  }
  throw new HearthError('INTERNAL', `too many files named “${name}” in ${deps.folder}`)
}

/**
 * One open at a time: a page that asks again before the last one finished is told to wait, so a misbehaving page
 * cannot open a storm of apps.
 */
export function oneAtATime<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let busy = false
  return async (...args) => {
    if (busy) throw new HearthError('RATE_LIMITED', 'a file is already being opened')
    busy = true
    try {
      return await run(...args)
    } finally {
      busy = false
    }
  }
}
