/**
 * What a file card shows about a file's type: a family for its icon (from the type the core sniffed from the bytes,
 * never from the name) and whether opening it could run code. The core marks risky files itself (`risky`); the name's
 * extension is checked here too, because what the person's system does with a saved file follows its name.
 */

export type FileFamily = 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'archive' | 'document' | 'other'

export function fileFamily(mime: string): FileFamily {
  if (mime.startsWith('image/')) return 'image'
  if (mime.startsWith('video/')) return 'video'
  if (mime.startsWith('audio/')) return 'audio'
  if (mime === 'application/pdf') return 'pdf'
  if (mime.startsWith('text/')) return 'text'
  if (/zip|x-tar|gzip|x-7z|x-rar|x-bzip|x-xz|zstd/.test(mime)) return 'archive'
  if (/officedocument|msword|ms-excel|ms-powerpoint|opendocument|rtf|epub/.test(mime)) return 'document'
  return 'other'
}

/** A glyph per family (decorative: the card names the type in words too). */
export const FAMILY_ICON: Record<FileFamily, string> = {
  image: '🖼',
  video: '🎞',
  audio: '🎵',
  pdf: '📕',
  text: '📄',
  archive: '🗜',
  document: '📃',
  other: '📦',
}

export const FAMILY_NAME: Record<FileFamily, string> = {
  image: 'Image',
  video: 'Video',
  audio: 'Audio',
  pdf: 'PDF document',
  text: 'Text',
  archive: 'Archive',
  document: 'Document',
  other: 'File',
}

/** Extensions a desktop runs, installs or interprets when the file is opened. */
const RISKY_EXTENSIONS = new Set([
  'exe', 'msi', 'msix', 'msp', 'bat', 'cmd', 'com', 'scr', 'pif', 'cpl', 'vbs', 'vbe', 'js', 'jse', 'wsf', 'wsh', 'ps1',
  'psm1', 'hta', 'lnk', 'reg', 'jar', 'app', 'dmg', 'pkg', 'command', 'sh', 'bash', 'zsh', 'run', 'deb', 'rpm',
  'appimage', 'desktop', 'html', 'htm', 'xhtml', 'svg', 'py', 'pl', 'rb', 'php', 'docm', 'xlsm', 'pptm', 'iso', 'img',
  'apk', 'url', 'webloc', 'inf', 'scf', 'library-ms', 'bin', 'mjs', 'appx', 'vhd', 'vhdx',
])

const RISKY_MIME = /x-msdownload|x-dosexec|x-executable|x-mach-binary|x-sharedlib|x-elf|x-sh|javascript|text\/html|image\/svg|x-msi|java-archive|vnd\.android/

export function isRiskyFile(name: string, mime: string, markedByCore = false): boolean {
  if (markedByCore) return true
  const dot = name.lastIndexOf('.')
  const ext = dot === -1 ? '' : name.slice(dot + 1).toLowerCase()
  return RISKY_EXTENSIONS.has(ext) || RISKY_MIME.test(mime)
}
