/**
 * The main process's wiring, run against a fake of the Electron API (the runtime cannot run here). The decisions are
 * tested in their own modules; this checks that main.ts actually applies them: the privileged scheme, the single
 * instance lock, the session and window guards, the window's web preferences, the core process and its ports, deep
 * links, and the quit sequence.
 */
import { EventEmitter } from 'node:events'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { contentSecurityPolicy } from './csp.js'

const INVITE = `hearth://join/${'B'.repeat(120)}`

class FakeChild extends EventEmitter {
  readonly sent: Array<{ message: { type: string }; transfer: unknown[] }> = []
  killed = false
  postMessage(message: { type: string }, transfer: unknown[] = []) {
    this.sent.push({ message, transfer })
    if (message.type === 'shutdown') setTimeout(() => this.emit('exit', 0), 1)
  }
  kill() {
    this.killed = true
    return true
  }
}

class FakeWebContents extends EventEmitter {
  readonly sent: unknown[][] = []
  readonly posted: Array<[string, unknown, unknown[]]> = []
  reloads = 0
  send(...args: unknown[]) {
    this.sent.push(args)
  }
  postMessage(channel: string, message: unknown, transfer: unknown[]) {
    this.posted.push([channel, message, transfer])
  }
  reload() {
    this.reloads++
  }
}

class FakeWindow extends EventEmitter {
  static all: FakeWindow[] = []
  readonly webContents = new FakeWebContents()
  loaded: string | undefined
  constructor(readonly options: Record<string, unknown>) {
    super()
    FakeWindow.all.push(this)
  }
  loadURL(url: string) {
    this.loaded = url
    return Promise.resolve()
  }
  maximize() {}
  show() {}
  focus() {}
  restore() {}
  isMinimized() {
    return false
  }
  isMaximized() {
    return false
  }
  isFullScreen() {
    return false
  }
  isDestroyed() {
    return false
  }
  isFocused() {
    return false
  }
  getNormalBounds() {
    return { x: 10, y: 20, width: 1000, height: 700 }
  }
  setOverlayIcon() {}
}

function fakeElectron(userData: string, appPath: string) {
  let isReady = false
  let ready!: () => void
  const whenReady = new Promise<void>((resolve) => (ready = () => ((isReady = true), resolve())))
  const children: FakeChild[] = []
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    requestSingleInstanceLock: vi.fn(() => true),
    quit: vi.fn(),
    exit: vi.fn(),
    whenReady: () => whenReady,
    isReady: () => isReady,
    getPath: (name: string) => (name === 'userData' ? userData : tmpdir()),
    getAppPath: () => appPath,
    setAppUserModelId: vi.fn(),
    setAsDefaultProtocolClient: vi.fn(() => true),
    setBadgeCount: vi.fn(),
  })
  const sessionHandlers: Record<string, unknown> = {}
  const session = {
    defaultSession: Object.assign(new EventEmitter(), {
      setPermissionRequestHandler: (h: unknown) => (sessionHandlers.request = h),
      setPermissionCheckHandler: (h: unknown) => (sessionHandlers.check = h),
      setDevicePermissionHandler: (h: unknown) => (sessionHandlers.device = h),
      webRequest: {
        onBeforeRequest: (h: unknown) => (sessionHandlers.beforeRequest = h),
        onHeadersReceived: (h: unknown) => (sessionHandlers.headers = h),
      },
    }),
  }
  const protocolHandlers = new Map<string, (request: { method: string; url: string }) => Promise<Response>>()
  const electron = {
    app,
    BrowserWindow: FakeWindow,
    dialog: { showErrorBox: vi.fn(), showMessageBox: vi.fn(() => Promise.resolve({ response: 1 })) },
    ipcMain: Object.assign(new EventEmitter(), {
      invokeHandlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
      handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown) {
        this.invokeHandlers.set(channel, handler)
      },
    }),
    MessageChannelMain: MessageChannel,
    nativeImage: { createFromBuffer: vi.fn(() => ({})) },
    nativeTheme: { shouldUseDarkColors: false },
    net: { fetch: async (url: string) => new Response(await readFile(fileURLToPath(url))) },
    Notification: Object.assign(class extends EventEmitter {}, { isSupported: () => false }),
    protocol: {
      registerSchemesAsPrivileged: vi.fn(),
      handle: (scheme: string, handler: (request: { method: string; url: string }) => Promise<Response>) => protocolHandlers.set(scheme, handler),
    },
    safeStorage: {
      getSelectedStorageBackend: () => 'basic_text',
      isAsyncEncryptionAvailable: () => Promise.resolve(true),
      encryptStringAsync: vi.fn(),
      decryptStringAsync: vi.fn(),
    },
    screen: {
      getPrimaryDisplay: () => ({ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }),
      getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }],
    },
    session,
    shell: { openExternal: vi.fn(() => Promise.resolve()) },
    utilityProcess: {
      fork: vi.fn(() => {
        const child = new FakeChild()
        children.push(child)
        return child
      }),
    },
  }
  return { electron, ready, children, sessionHandlers, protocolHandlers }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

describe('the main process wiring', () => {
  let home: string
  let fake: ReturnType<typeof fakeElectron>
  let window: FakeWindow

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'hearth-main-'))
    await mkdir(join(home, 'app', 'renderer', 'dist'), { recursive: true })
    await writeFile(join(home, 'app', 'renderer', 'dist', 'index.html'), '<!doctype html><title>Hearth</title>')
    fake = fakeElectron(join(home, 'userData'), join(home, 'app'))
    vi.doMock('electron', () => fake.electron)
    process.argv.push(INVITE) // as Windows/Linux start us from a link
    await import('./main.js')
    process.argv.pop()
  })
  afterAll(async () => {
    vi.doUnmock('electron')
    await rm(home, { recursive: true, force: true })
  })

  it('registers app:// as a standard secure scheme and takes the single-instance lock before ready', () => {
    expect(fake.electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
    ])
    expect(fake.electron.app.requestSingleInstanceLock).toHaveBeenCalled()
    expect(FakeWindow.all).toHaveLength(0)
  })

  it('on ready: guards the session, serves the UI with the CSP, starts the core, opens a secure window', async () => {
    fake.ready()
    await tick()
    expect(fake.electron.app.setAsDefaultProtocolClient).toHaveBeenCalledWith('hearth')
    expect(Object.keys(fake.sessionHandlers).sort()).toEqual(['beforeRequest', 'check', 'device', 'headers', 'request'])
    const page = await fake.protocolHandlers.get('app')!({ method: 'GET', url: 'app://hearth/index.html' })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toBe(contentSecurityPolicy())

    expect(fake.electron.utilityProcess.fork).toHaveBeenCalledTimes(1)
    const [entry, args] = fake.electron.utilityProcess.fork.mock.calls[0] as unknown as [string, string[]]
    expect(entry).toMatch(/core-process\.js$/)
    // basic_text: no keychain, so the core asks for a passphrase.
    expect(args.slice(args.indexOf('--keychain'), args.indexOf('--keychain') + 2)).toEqual(['--keychain', 'no'])

    expect(FakeWindow.all).toHaveLength(1)
    window = FakeWindow.all[0]!
    expect(window.loaded).toBe('app://hearth/index.html')
    expect(window.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      preload: expect.stringMatching(/preload\.cjs$/),
    })
  })

  it('guards every WebContents created', () => {
    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() })
    fake.electron.app.emit('web-contents-created', {}, contents)
    const event = { url: 'https://evil.example/', preventDefault: vi.fn() }
    contents.emit('will-navigate', event)
    expect(event.preventDefault).toHaveBeenCalled()
    expect(contents.setWindowOpenHandler).toHaveBeenCalled()
  })

  it('connects itself to the core once it is ready', () => {
    const child = fake.children[0]!
    child.emit('message', { type: 'ready' })
    expect(child.sent.map((s) => s.message.type)).toEqual(['connect'])
    expect(child.sent[0]!.transfer).toHaveLength(1)
  })

  it('gives a port only to the app’s own main frame, then the deep link it was started with', () => {
    const child = fake.children[0]!
    const foreign = new FakeWebContents()
    fake.electron.ipcMain.emit('hearth:connect', { sender: foreign, senderFrame: { url: 'app://hearth/index.html', parent: null } })
    fake.electron.ipcMain.emit('hearth:connect', {
      sender: window.webContents,
      senderFrame: { url: 'app://hearth/index.html', parent: { url: 'app://hearth/' } },
    })
    fake.electron.ipcMain.emit('hearth:connect', { sender: window.webContents, senderFrame: { url: 'https://evil.example/', parent: null } })
    expect(window.webContents.posted).toHaveLength(0)

    fake.electron.ipcMain.emit('hearth:connect', { sender: window.webContents, senderFrame: { url: 'app://hearth/index.html', parent: null } })
    expect(window.webContents.posted).toHaveLength(1)
    expect(window.webContents.posted[0]![0]).toBe('hearth:port')
    expect(child.sent.filter((s) => s.message.type === 'connect')).toHaveLength(2)
    expect(window.webContents.sent).toEqual([['hearth:deep-link', INVITE]])
  })

  it('answers Open only for the app’s own main frame, and never with a path from the page', async () => {
    const open = fake.electron.ipcMain.invokeHandlers.get('hearth:open-file')!
    expect(open).toBeDefined()
    const ref = { conversationId: 'ab'.repeat(16), messageId: 'cd'.repeat(16), index: 0 }
    const foreign = new FakeWebContents()
    for (const event of [
      { sender: foreign, senderFrame: { url: 'app://hearth/index.html', parent: null } },
      { sender: window.webContents, senderFrame: { url: 'app://hearth/index.html', parent: { url: 'app://hearth/' } } },
      { sender: window.webContents, senderFrame: { url: 'https://evil.example/', parent: null } },
    ]) {
      expect(await open(event, ref)).toEqual({ ok: false, code: 'UNAUTHORIZED', message: 'not from the app' })
    }
    const app = { sender: window.webContents, senderFrame: { url: 'app://hearth/index.html', parent: null } }
    expect(await open(app, { ...ref, path: '/etc/passwd' })).toMatchObject({ ok: false, code: 'INVALID_INPUT' })
  })

  it('forwards validated links from macOS and from a second instance, and drops junk', () => {
    const event = { preventDefault: vi.fn() }
    fake.electron.app.emit('open-url', event, 'hearth://evil/stuff')
    fake.electron.app.emit('second-instance', {}, ['/opt/Hearth/hearth', '--flag', 'hearth://join/x'], '/')
    expect(window.webContents.sent).toHaveLength(1)
    fake.electron.app.emit('open-url', event, `${INVITE}/`)
    fake.electron.app.emit('second-instance', {}, ['/opt/Hearth/hearth', INVITE], '/')
    expect(window.webContents.sent.slice(1)).toEqual([
      ['hearth:deep-link', INVITE],
      ['hearth:deep-link', INVITE],
    ])
    expect(event.preventDefault).toHaveBeenCalled()
  })

  it('reloads the window when a crashed core is back', async () => {
    vi.useFakeTimers()
    try {
      fake.children[0]!.emit('exit', 139)
      await vi.advanceTimersByTimeAsync(1_000)
      expect(fake.children).toHaveLength(2)
      fake.children[1]!.emit('message', { type: 'ready' })
      expect(window.webContents.reloads).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('holds the quit until the core has shut down, then quits', async () => {
    const event = { preventDefault: vi.fn() }
    fake.electron.app.emit('before-quit', event)
    expect(event.preventDefault).toHaveBeenCalled()
    const child = fake.children[1]!
    expect(child.sent.at(-1)!.message.type).toBe('shutdown')
    expect(fake.electron.app.quit).not.toHaveBeenCalled()
    await tick()
    expect(fake.electron.app.quit).toHaveBeenCalledTimes(1)
    const again = { preventDefault: vi.fn() }
    fake.electron.app.emit('before-quit', again)
    expect(again.preventDefault).not.toHaveBeenCalled()
    // The window state was saved on the way.
    window.emit('close')
    expect(JSON.parse(await readFile(join(home, 'userData', 'window-state.json'), 'utf8'))).toEqual({
      x: 10,
      y: 20,
      width: 1000,
      height: 700,
      maximized: false,
    })
  })
})
