import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataDirFromEnv, listenFromEnv } from './data-dir.js'
import { electronExecutable } from './desktop-runtime.js'
import { browserCommand } from './open-browser.js'
import { rendererIsStale } from './renderer-build.js'
import { parseStartArgs, parseUiPort } from './start.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-launcher-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('npm start: Electron or the browser', () => {
  it('finds the Electron runtime only when its executable is really there (without triggering a download)', async () => {
    const repo = join(root, 'repo')
    const pkg = join(repo, 'node_modules/electron')
    // The executable's name is whatever path.txt says (`electron`, `Electron.app/…`, `electron.exe`).
    const exe = 'desktop-runtime-binary'
    await mkdir(pkg, { recursive: true })
    // The package without its runtime, as `npm install` leaves it without internet.
    expect(electronExecutable(repo, {})).toBeUndefined()
    await writeFile(join(pkg, 'path.txt'), exe)
    expect(electronExecutable(repo, {})).toBeUndefined()
    await mkdir(join(pkg, 'dist'))
    await writeFile(join(pkg, 'dist', exe), '')
    expect(electronExecutable(repo, {})).toBe(join(pkg, 'dist', exe))
    const override = join(root, 'override')
    await mkdir(override)
    expect(electronExecutable(repo, { ELECTRON_OVERRIDE_DIST_PATH: override })).toBeUndefined()
    await writeFile(join(override, exe), '')
    expect(electronExecutable(repo, { ELECTRON_OVERRIDE_DIST_PATH: override })).toBe(join(override, exe))
  })

  it('on this repository, says whether the runtime is installed without throwing', () => {
    expect(() => electronExecutable()).not.toThrow()
  })

  it('reads its options and port', () => {
    expect(parseStartArgs([])).toEqual({ web: false, open: true })
    expect(parseStartArgs(['--web', '--no-open'])).toEqual({ web: true, open: false })
    expect(() => parseStartArgs(['--wbe'])).toThrow(/unknown option/)
    expect(parseUiPort(undefined)).toBe(0)
    expect(parseUiPort('')).toBe(0)
    expect(parseUiPort('8080')).toBe(8080)
    for (const bad of ['-1', '65536', 'http', '80.5']) expect(() => parseUiPort(bad)).toThrow(/HEARTH_UI_PORT/)
  })

  it('uses the CLI data directory and listen addresses', () => {
    expect(dataDirFromEnv({})).toBe(join(homedir(), '.hearth'))
    expect(dataDirFromEnv({ HEARTH_DATA_DIR: 'rel/dir' })).toBe(resolve('rel/dir'))
    expect(listenFromEnv({ HEARTH_LISTEN: ' /ip4/127.0.0.1/tcp/1 ,, /ip4/127.0.0.1/tcp/2/ws ' })).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2/ws'])
    expect(listenFromEnv({})).toEqual([])
  })

  it('opens the default browser with the URL as an argument, never through a shell string', () => {
    const url = 'http://127.0.0.1:1/#launch=abc'
    expect(browserCommand('linux', url)).toEqual({ command: 'xdg-open', args: [url] })
    expect(browserCommand('darwin', url)).toEqual({ command: 'open', args: [url] })
    expect(browserCommand('win32', url)).toEqual({ command: 'cmd', args: ['/c', 'start', '""', url] })
  })
})

describe('rendererIsStale', () => {
  it('is true without a build or with a source newer than the build, false otherwise or without sources', async () => {
    const repo = join(root, 'stale')
    expect(await rendererIsStale(repo)).toBe(false) // an install without sources serves what it ships
    await mkdir(join(repo, 'renderer', 'src', 'components'), { recursive: true })
    await writeFile(join(repo, 'renderer', 'src', 'components', 'A.tsx'), 'x')
    expect(await rendererIsStale(repo)).toBe(true)
    await mkdir(join(repo, 'renderer', 'dist'))
    await writeFile(join(repo, 'renderer', 'dist', 'index.html'), 'built')
    const past = new Date(Date.now() - 60_000)
    await utimes(join(repo, 'renderer', 'src', 'components', 'A.tsx'), past, past)
    await utimes(join(repo, 'renderer', 'src', 'components'), past, past)
    await utimes(join(repo, 'renderer', 'src'), past, past)
    expect(await rendererIsStale(repo)).toBe(false)
    await writeFile(join(repo, 'renderer', 'src', 'components', 'A.tsx'), 'changed')
    expect(await rendererIsStale(repo)).toBe(true)
  })
})
