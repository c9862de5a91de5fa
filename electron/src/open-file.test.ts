import { mkdtemp, mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../node/src/api/contract.js'
import type { AttachmentView } from '../../node/src/api/types.js'
import {
  MAX_FILES_PER_MESSAGE,
  numberedName,
  oneAtATime,
  openAction,
  openReceivedFile,
  parseOpenFileRequest,
  safeFileName,
  type OpenFileDeps,
} from './open-file.js'

const REF = { conversationId: 'ab'.repeat(16), messageId: 'cd'.repeat(16), index: 1 }

describe('the Open request from the page', () => {
  it('takes exactly a conversation id, a message id and an index', () => {
    expect(parseOpenFileRequest(REF)).toEqual(REF)
    expect(parseOpenFileRequest({ ...REF, index: 0 })).toEqual({ ...REF, index: 0 })
    expect(parseOpenFileRequest(Object.assign(Object.create(null) as object, REF))).toEqual(REF)
    expect(MAX_FILES_PER_MESSAGE).toBe(MAX_ATTACHMENTS_PER_MESSAGE)
  })

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'ab'],
    ['an array', [REF.conversationId, REF.messageId, 1]],
    ['a path as well', { ...REF, path: '/home/me/.bashrc' }],
    ['a name as well', { ...REF, name: 'evil.exe' }],
    ['a symbol key as well', { ...REF, [Symbol('x')]: 1 }],
    ['no index', { conversationId: REF.conversationId, messageId: REF.messageId }],
    ['an upper-case id', { ...REF, conversationId: REF.conversationId.toUpperCase() }],
    ['a short id', { ...REF, messageId: 'cd' }],
    ['a path for an id', { ...REF, messageId: `../../${'a'.repeat(26)}` }],
    ['an index as text', { ...REF, index: '1' }],
    ['a negative index', { ...REF, index: -1 }],
    ['an index past the last file', { ...REF, index: MAX_FILES_PER_MESSAGE }],
    ['a fractional index', { ...REF, index: 0.5 }],
    ['NaN', { ...REF, index: Number.NaN }],
    ['an object of a class', Object.assign(new (class Ref {})(), REF)],
  ])('refuses %s', (_what, raw) => {
    expect(parseOpenFileRequest(raw)).toBeNull()
  })
})

describe('the name an opened file is written under', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../.ssh/authorized_keys', 'authorized_keys'],
    ['C:\\Windows\\System32\\evil.dll', 'evil.dll'],
    ['..', 'file'],
    ['...', 'file'],
    ['', 'file'],
    ['.bashrc', 'bashrc'],
    ['notes.txt. . ', 'notes.txt'],
    ['a<b>:c"d|e?f*.txt', 'a_b__c_d_e_f_.txt'],
    // Right-to-left override: "photo\u202Egpj.exe" shows as "photoexe.jpg".
    ['photo\u202egpj.exe', 'photogpj.exe'],
    ['invoice.pdf\u200b.exe', 'invoice.pdf.exe'],
    ['tab\tand\nnewline.txt', 'tabandnewline.txt'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['com1.tar.gz', '_com1.tar.gz'],
    ['console.txt', 'console.txt'],
  ])('%j → %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe)
  })

  it('fits a long name in 200 bytes of UTF-8, keeping its extension and whole characters', () => {
    const name = `${'ü'.repeat(300)}.docx`
    const safe = safeFileName(name)
    expect(new TextEncoder().encode(safe).length).toBeLessThanOrEqual(200)
    expect(safe.endsWith('ü.docx')).toBe(true)
    expect(safeFileName('😀'.repeat(100))).toBe('😀'.repeat(50))
  })

  it('numbers a name that is taken before its extension', () => {
    expect(numberedName('report.pdf', 1)).toBe('report.pdf')
    expect(numberedName('report.pdf', 2)).toBe('report (2).pdf')
    expect(numberedName('README', 3)).toBe('README (3)')
  })
})

describe('what Open does with a file', () => {
  it.each([
    ['report.pdf', 'application/pdf', false, 'open'],
    ['notes.txt', 'text/plain', false, 'open'],
    ['photo.jpg', 'image/jpeg', false, 'open'],
    ['song.mp3', 'audio/mpeg', false, 'open'],
    ['budget.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', false, 'open'],
    ['setup.exe', 'application/x-msdownload', false, 'reveal'],
    ['SETUP.EXE', 'application/octet-stream', false, 'reveal'],
    ['photo.jpg', 'application/x-msdownload', false, 'reveal'],
    ['page.html', 'text/plain', false, 'reveal'],
    ['drawing.svg', 'image/svg+xml', false, 'reveal'],
    ['run.sh', 'text/plain', false, 'reveal'],
    ['script.py', 'text/plain', false, 'reveal'],
    ['macro.docm', 'application/zip', false, 'reveal'],
    ['link.lnk', 'application/octet-stream', false, 'reveal'],
    ['Makefile', 'text/plain', false, 'reveal'],
    ['harmless.txt', 'text/plain', true, 'reveal'],
  ] as const)('%s (%s, marked by the core: %s) → %s', (name, mime, marked, action) => {
    expect(openAction(name, mime, marked)).toBe(action)
  })
})

/** A folder in memory, and what the shell was asked to do. */
function fakeDeps(file: Partial<AttachmentView>, options: { saveFails?: boolean; openFails?: boolean } = {}) {
  const files = new Map<string, string>()
  const calls: string[] = []
  const view: AttachmentView = { index: 1, name: 'report.pdf', size: 3, mime: 'application/pdf', kind: 'file', state: 'complete', received: 3, ...file }
  const deps: OpenFileDeps = {
    describe: (ref) => {
      calls.push(`describe ${ref.index}`)
      return Promise.resolve(view)
    },
    save: (_ref, path) => {
      if (options.saveFails === true) return Promise.reject(new Error('disk full'))
      files.set(path, 'decrypted')
      return Promise.resolve()
    },
    folder: '/dl/Hearth',
    mkdir: () => Promise.resolve(),
    join: (folder, name) => `${folder}/${name}`,
    createNew: (path) => {
      if (files.has(path)) return Promise.reject(Object.assign(new Error('exists'), { code: 'EEXIST' }))
      files.set(path, '')
      return Promise.resolve()
    },
    remove: (path) => {
      files.delete(path)
      return Promise.resolve()
    },
    openPath: (path) => {
      calls.push(`open ${path}`)
      return Promise.resolve(options.openFails === true ? 'no application' : '')
    },
    showItemInFolder: (path) => calls.push(`show ${path}`),
  }
  return { deps, files, calls }
}

describe('opening a received file', () => {
  it('writes a harmless file under a fresh name in the folder and opens it with the system’s app', async () => {
    const { deps, files, calls } = fakeDeps({ name: 'report.pdf' })
    files.set('/dl/Hearth/report.pdf', 'an earlier one')
    expect(await openReceivedFile(deps, REF)).toEqual({ action: 'opened' })
    expect(files.get('/dl/Hearth/report.pdf')).toBe('an earlier one')
    expect(files.get('/dl/Hearth/report (2).pdf')).toBe('decrypted')
    expect(calls).toEqual(['describe 1', 'open /dl/Hearth/report (2).pdf'])
  })

  it('never opens a risky file: it is only shown in its folder, whatever the page says', async () => {
    for (const file of [{ name: 'setup.exe', mime: 'application/x-msdownload' }, { name: 'invoice.pdf\u200b.exe' }, { name: 'evil.exe.' }, { name: 'ok.txt', risky: true }]) {
      const { deps, calls } = fakeDeps(file)
      expect(await openReceivedFile(deps, REF)).toEqual({ action: 'shown' })
      expect(calls.some((c) => c.startsWith('open '))).toBe(false)
      expect(calls.at(-1)).toMatch(/^show \/dl\/Hearth\//)
    }
  })

  it('a peer’s file name never leaves the folder', async () => {
    const { deps, files, calls } = fakeDeps({ name: '../../../home/me/.bashrc' })
    await openReceivedFile(deps, REF)
    expect([...files.keys()]).toEqual(['/dl/Hearth/bashrc'])
    expect(calls.at(-1)).toBe('show /dl/Hearth/bashrc')
  })

  it('refuses a malformed request before asking the core anything', async () => {
    const { deps, calls } = fakeDeps({})
    await expect(openReceivedFile(deps, { ...REF, path: '/etc/passwd' })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    expect(calls).toEqual([])
  })

  it('a file not on this device yet is refused and nothing is written', async () => {
    const { deps, files } = fakeDeps({ state: 'downloading', received: 1 })
    await expect(openReceivedFile(deps, REF)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(files.size).toBe(0)
  })

  it('a failed write leaves no empty file behind; a file no app opens is shown in its folder', async () => {
    const failing = fakeDeps({}, { saveFails: true })
    await expect(openReceivedFile(failing.deps, REF)).rejects.toThrow('disk full')
    expect(failing.files.size).toBe(0)
    const noApp = fakeDeps({}, { openFails: true })
    expect(await openReceivedFile(noApp.deps, REF)).toEqual({ action: 'shown' })
    expect(noApp.calls.at(-1)).toBe('show /dl/Hearth/report.pdf')
  })

  it('one at a time: a second request while one runs is refused', async () => {
    let release = () => {}
    const slow = oneAtATime(() => new Promise<string>((resolve) => (release = () => resolve('done'))))
    const first = slow()
    await expect(slow()).rejects.toMatchObject({ code: 'RATE_LIMITED' })
    release()
    await expect(first).resolves.toBe('done')
    const again = slow()
    release()
    await expect(again).resolves.toBe('done')
  })
})

describe('on a real disk', () => {
  let dir = ''
  afterEach(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('never writes through something already at the name (a file or a symlink): the next name is taken', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-open-'))
    const folder = join(dir, 'Hearth')
    await mkdir(folder)
    const outside = join(dir, 'outside.txt')
    await writeFile(outside, 'keep me')
    const { symlink } = await import('node:fs/promises')
    await symlink(outside, join(folder, 'notes.txt'))
    const written: string[] = []
    const deps: OpenFileDeps = {
      ...fakeDeps({ name: 'notes.txt', mime: 'text/plain' }).deps,
      folder,
      join,
      mkdir: async (d) => {
        await mkdir(d, { recursive: true })
      },
      createNew: async (path) => (await open(path, 'wx', 0o600)).close(),
      remove: (path) => rm(path, { force: true }),
      save: async (_ref, path) => {
        written.push(path)
        await writeFile(path, 'decrypted')
      },
    }
    await openReceivedFile(deps, REF)
    expect(written).toEqual([join(folder, 'notes (2).txt')])
    expect(await readFile(outside, 'utf8')).toBe('keep me')
    expect((await readdir(folder)).sort()).toEqual(['notes (2).txt', 'notes.txt'])
  })
})
