import { describe, expect, it, vi } from 'vitest'
import { downloadName, saveBlob } from './save-file.js'

describe('downloadName', () => {
  it('keeps an ordinary name as it is', () => {
    expect(downloadName('Holiday photos 2026.zip')).toBe('Holiday photos 2026.zip')
    expect(downloadName('Grand-mère.jpg')).toBe('Grand-mère.jpg')
  })

  it('cannot name a folder, a hidden file, or disguise its extension with direction marks', () => {
    expect(downloadName('../../.bashrc')).toBe('__.._.bashrc')
    expect(downloadName('C:\\Windows\\evil.exe')).toBe('C__Windows_evil.exe')
    expect(downloadName('.profile')).toBe('_profile')
    // "invoice\u202Egpj.exe" shows as "invoiceexe.jpg" in a right-to-left override.
    expect(downloadName('invoice\u202Egpj.exe')).toBe('invoice_gpj.exe')
    expect(downloadName('a\u0000b\nc')).toBe('a_b_c')
    expect(downloadName('   ')).toBe('file')
    expect(downloadName('x'.repeat(400))).toHaveLength(255)
  })
})

describe('saveBlob', () => {
  it('hands the browser a blob URL under the cleaned name and revokes it afterwards', () => {
    vi.useFakeTimers()
    try {
      const target = { createUrl: vi.fn(() => 'blob:x'), revokeUrl: vi.fn(), click: vi.fn() }
      saveBlob(new Blob(['hi']), 'a/b.txt', target)
      expect(target.click).toHaveBeenCalledWith('blob:x', 'a_b.txt')
      expect(target.revokeUrl).not.toHaveBeenCalled()
      vi.advanceTimersByTime(60_000)
      expect(target.revokeUrl).toHaveBeenCalledWith('blob:x')
    } finally {
      vi.useRealTimers()
    }
  })
})
