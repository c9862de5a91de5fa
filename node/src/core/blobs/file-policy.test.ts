import { describe, expect, it } from 'vitest'
import { cleanFileName, DEFAULT_FILE_SETTINGS, downloadsByItself, isRisky, isShownImage, sniffMime } from './file-policy.js'

const bytes = (...b: number[]) => new Uint8Array(b)
const text = (s: string) => new TextEncoder().encode(s)

describe('file policy', () => {
  it('sniffs the type from the bytes, never from the name', async () => {
    expect(await sniffMime(bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1))).toBe('image/jpeg')
    expect(await sniffMime(text('%PDF-1.7\n%âãÏÓ\n'))).toBe('application/pdf')
    expect(await sniffMime(bytes(0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0))).not.toMatch(/^image\//)
    expect(await sniffMime(text('shopping list:\n- milk\n- bread\n'))).toBe('text/plain')
    expect(await sniffMime(bytes(0, 1, 2, 3, 0xfe, 0xff, 7))).toBe('application/octet-stream')
    expect(await sniffMime(new Uint8Array(0))).toBe('application/octet-stream')
  })

  it('shows inline only images Chromium decodes', () => {
    expect(isShownImage('image/png')).toBe(true)
    expect(isShownImage('image/svg+xml')).toBe(false)
    expect(isShownImage('image/tiff')).toBe(false)
  })

  it('marks what can run code as risky, by type or by name', () => {
    expect(isRisky('setup.exe', 'application/octet-stream')).toBe(true)
    expect(isRisky('holiday.jpg', 'application/x-msdownload')).toBe(true)
    expect(isRisky('Invoice.PDF.lnk', 'application/octet-stream')).toBe(true)
    expect(isRisky('page.html', 'text/plain')).toBe(true)
    expect(isRisky('notes.txt ', 'text/plain')).toBe(false)
    expect(isRisky('photo.jpg', 'image/jpeg')).toBe(false)
  })

  it('cleans names: no path, no control or direction-override characters, never empty', () => {
    expect(cleanFileName('../../etc/passwd')).toBe('passwd')
    expect(cleanFileName('C:\\Users\\me\\photo.jpg')).toBe('photo.jpg')
    expect(cleanFileName('invoice\u202Egpj.exe')).toBe('invoicegpj.exe')
    expect(cleanFileName('a\u0000b\nc')).toBe('abc')
    expect(cleanFileName('..')).toBe('file')
    expect(cleanFileName('   ')).toBe('file')
    expect(cleanFileName('x'.repeat(300))).toHaveLength(255)
  })

  it('downloads by itself within the size for where it would come from', () => {
    const s = DEFAULT_FILE_SETTINGS
    expect(downloadsByItself(20 * 1024 * 1024, s, true)).toBe(true)
    expect(downloadsByItself(20 * 1024 * 1024, s, false)).toBe(false)
    expect(downloadsByItself(26 * 1024 * 1024, s, true)).toBe(false)
    expect(downloadsByItself(1, { ...s, autoDownloadPeerBytes: 0 }, true)).toBe(false)
    // Never by itself a file larger than the room kept for received files (it would push out everything else).
    expect(downloadsByItself(20 * 1024 * 1024, { ...s, keepReceivedBytes: 16 * 1024 * 1024 }, true)).toBe(false)
    expect(downloadsByItself(20 * 1024 * 1024, { ...s, keepReceivedBytes: 0 }, true)).toBe(true)
  })
})
