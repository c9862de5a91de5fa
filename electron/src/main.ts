/**
 * The Electron main process: thin wiring of the decisions made in the plain modules next to it.
 *
 *   one instance        single-instance lock; a second launch focuses the window and forwards its hearth:// link
 *   one window          sandboxed, context-isolated, no Node (window-options.ts), app:// origin only (app-protocol.ts),
 *                       navigation/new windows/webviews/permissions/downloads/remote loads refused (guards.ts),
 *                       size and position remembered (window-state.ts)
 *   the core            in a utility process (core-process.ts), supervised: restarted with backoff, closed on quit
 *                       (core-supervisor.ts); keys wrapped by safeStorage through us (safe-storage.ts)
 *   the API             a MessageChannelMain per window load: one port to the core, one to the preload
 *   OS integration      hearth:// invite links (deep-link.ts), notifications and the unread badge (shell-events.ts),
 *                       Open of a received file through the system's app or its folder (open-file.ts)
 *
 * Bundled to CommonJS (dist/electron/main.cjs): a CommonJS main runs its top level before `ready`, which
 * `protocol.registerSchemesAsPrivileged` and the `open-url` listener need.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { mkdir, open as openFileHandle, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  MessageChannelMain,
  nativeImage,
  nativeTheme,
  net,
  Notification,
  protocol,
  safeStorage,
  screen,
  session,
  shell,
  utilityProcess,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type MessagePortMain,
} from 'electron'
import { drop, HearthError, isHearthError } from '../../node/common/errors.js'
import { createAppProtocolHandler } from './app-protocol.js'
import { formatCoreArgs } from './core-protocol.js'
import { CoreSupervisor } from './core-supervisor.js'
import { DEEP_LINK_SCHEME, deepLinkFromArgv, parseDeepLink } from './deep-link.js'
import { guardSession, guardWebContents } from './guards.js'
import { IPC } from './ipc-channels.js'
import { APP_ENTRY_URL, APP_SCHEME, isAppUrl } from './navigation-policy.js'
import { oneAtATime, openReceivedFile } from './open-file.js'
import type { NotificationContent } from './notification-policy.js'
import { dotPng } from './png.js'
import { createPortClient, type PortClient } from './port-client.js'
import { assessSafeStorage, createKeyService, type KeyService } from './safe-storage.js'
import { watchShellEvents, type ShellEvents } from './shell-events.js'
import { badgeLabel } from './unread.js'
import { secureWebPreferences } from './window-options.js'
import { fitToDisplays, MIN_WINDOW_SIZE, parseWindowState, stateToSave, type Rect } from './window-state.js'

const APP_USER_MODEL_ID = 'org.hearth.desktop'
const MAX_PENDING_LINKS = 4
const SAVE_WINDOW_STATE_DELAY_MS = 500

const log = {
  info: (message: string, detail?: Record<string, unknown>) => console.log(`[hearth] ${message}`, detail ?? ''),
  warn: (message: string, detail?: Record<string, unknown>) => console.warn(`[hearth] ${message}`, detail ?? ''),
}
const logError = (err: unknown) => log.warn('error', { err })
/** The core going away (restart, quit) fails calls in flight with NOT_RUNNING: expected, not worth a log line. */
const logUnlessStopped = (err: unknown) => {
  if (!isHearthError(err, 'NOT_RUNNING')) logError(err)
}

// ------------------------------------------------------------------------------------------------- before `ready`

// app:// behaves like https: a standard, secure origin (so 'self' in the CSP, fetch and storage work), nothing more.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
])

// ------------------------------------------------------------------------------------------------------ the shell

let mainWindow: BrowserWindow | undefined
/** The window's preload asked for its port: it is listening for deep links and events. */
let rendererListening = false
const pendingLinks: string[] = []
let supervisor: CoreSupervisor<MessagePortMain> | undefined
let shellClient: PortClient | undefined
let shellEvents: ShellEvents | undefined
let quitState: 'running' | 'shutting-down' | 'done' = 'running'
/** onReady finished: windows may be created (a link arriving earlier only queues). */
let shellReady = false
/** Notifications must stay referenced until closed, or their click handler may be collected (Windows). */
const liveNotifications = new Set<Notification>()

function start(): void {
  const dataDir = resolve(process.env.HEARTH_DESKTOP_DATA_DIR ?? join(app.getPath('userData'), 'data'))
  const logFile = join(app.getPath('userData'), 'logs', 'core.log')

  // macOS delivers links (also the one that launched us) as 'open-url', possibly before `ready`.
  app.on('open-url', (event, url) => {
    event.preventDefault()
    receiveLink(url)
  })
  // Windows and Linux start a second instance with the link in argv; the lock sends it here.
  app.on('second-instance', (_event, argv) => {
    focusWindow()
    const link = deepLinkFromArgv(argv)
    if (link !== null) receiveLink(link.url)
  })
  const launchLink = deepLinkFromArgv(process.argv)
  if (launchLink !== null) receiveLink(launchLink.url)

  // Every WebContents, whatever creates it, gets the navigation/new-window/webview guards.
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, shell, logError))

  app.on('window-all-closed', () => {
    // macOS apps stay running without windows (the core keeps receiving); elsewhere closing the window quits.
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('activate', () => {
    if (mainWindow === undefined && shellReady) createWindow()
  })
  app.on('before-quit', (event) => {
    if (quitState === 'done') return
    // Hold the quit until the core closed its database and network (or the shutdown timed out and it was killed).
    event.preventDefault()
    if (quitState === 'shutting-down') return
    quitState = 'shutting-down'
    shellEvents?.stop()
    shellClient?.close()
    drop(
      (supervisor?.shutdown() ?? Promise.resolve()).finally(() => {
        quitState = 'done'
        app.quit()
      }),
      logError,
    )
  })

  drop(
    app.whenReady().then(() => onReady(dataDir, logFile)),
    (err) => {
      log.warn('start-up failed', { err })
      dialog.showErrorBox('Hearth could not start', err instanceof Error ? err.message : String(err))
      app.exit(1)
    },
  )
}

async function onReady(dataDir: string, logFile: string): Promise<void> {
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID)
  registerProtocolClient()

  const rendererRoot = join(app.getAppPath(), 'renderer', 'dist')
  guardSession(session.defaultSession)
  protocol.handle(APP_SCHEME, createAppProtocolHandler(rendererRoot, (url) => net.fetch(url)))

  const keychain = await assessSafeStorage(safeStorage, process.platform)
  if (!keychain.usable) log.info('no usable system keychain: the identity will be protected by a passphrase', { reason: keychain.reason })
  const keys: KeyService = createKeyService(safeStorage, keychain)

  supervisor = new CoreSupervisor<MessagePortMain>({
    spawn: () =>
      utilityProcess.fork(
        join(__dirname, 'core-process.js'),
        formatCoreArgs({
          dataDir,
          keychain: keychain.usable,
          logFile,
          runtime: { electron: process.versions.electron, chrome: process.versions.chrome },
        }),
        { serviceName: 'Hearth core', stdio: app.isPackaged ? 'ignore' : 'inherit', env: coreEnvironment() },
      ),
    keys,
    closePort: (port) => port.close(),
    log,
    onReady: ({ restarted }) => {
      connectShell()
      // A restarted core starts locked or fresh: the page reloads to read its state again and get a new port.
      if (restarted) mainWindow?.webContents.reload()
    },
    onDied: ({ code, willRestartInMs }) => {
      if (willRestartInMs === null) drop(offerRetry(logFile, code), logError)
    },
  })
  supervisor.start()

  ipcMain.on(IPC.connect, onConnectRequest)
  ipcMain.handle(IPC.openFile, onOpenFileRequest)
  createWindow()
  shellReady = true
}

/** Whether an IPC message comes from our window's main frame showing the app (not a subframe, not another page). */
function fromAppMainFrame(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame
  if (mainWindow === undefined || event.sender !== mainWindow.webContents || frame === null || frame.parent !== null) return false
  return isAppUrl(frame.url)
}

/** The preload asks for its port to the core; only our window's main frame showing the app gets one. */
function onConnectRequest(event: IpcMainEvent): void {
  if (!fromAppMainFrame(event)) return
  const { port1, port2 } = new MessageChannelMain()
  supervisor?.connect(port1)
  event.sender.postMessage(IPC.port, null, [port2])
  rendererListening = true
  for (const url of pendingLinks.splice(0)) event.sender.send(IPC.deepLink, url)
}

/**
 * The page asks to open a received file: main asks the core what it is and has it written under Downloads/Hearth,
 * then opens it with the system's app or only shows it in its folder (open-file.ts decides). One at a time.
 */
const openOne = oneAtATime((ref: unknown) => {
  const client = shellClient
  if (client === undefined || client.closed) return Promise.reject(new HearthError('NOT_RUNNING', 'the Hearth core is not running'))
  return openReceivedFile(
    {
      describe: (r) => client.call('files.info', r),
      save: async (r, path) => {
        await client.call('files.save', { ...r, path })
      },
      folder: join(app.getPath('downloads'), 'Hearth'),
      mkdir: async (dir) => {
        await mkdir(dir, { recursive: true })
      },
      join,
      // 'wx': fails if anything, a symlink included, is already there.
      createNew: async (path) => (await openFileHandle(path, 'wx', 0o600)).close(),
      remove: (path) => rm(path, { force: true }),
      openPath: (path) => shell.openPath(path),
      showItemInFolder: (path) => shell.showItemInFolder(path),
    },
    ref,
  )
})

async function onOpenFileRequest(event: IpcMainInvokeEvent, ref: unknown): Promise<unknown> {
  if (!fromAppMainFrame(event)) return { ok: false, code: 'UNAUTHORIZED', message: 'not from the app' }
  try {
    return { ok: true, ...(await openOne(ref)) }
  } catch (err) {
    if (isHearthError(err)) return { ok: false, code: err.code, message: err.message }
    logError(err)
    return { ok: false, code: 'INTERNAL', message: 'the file could not be opened' }
  }
}

/** Main's own API connection, for notifications and the badge; renewed each time a core becomes ready. */
function connectShell(): void {
  shellEvents?.stop()
  shellClient?.close()
  const { port1, port2 } = new MessageChannelMain()
  supervisor?.connect(port1)
  const client = createPortClient(port2)
  shellClient = client
  shellEvents = watchShellEvents({
    client,
    notify: showNotification,
    setBadge,
    isWindowFocused: () => mainWindow?.isFocused() ?? false,
    onError: logUnlessStopped,
  })
  drop(shellEvents.refresh(), logUnlessStopped)
}

// ---------------------------------------------------------------------------------------------------- the window

function createWindow(): void {
  const stateFile = join(app.getPath('userData'), 'window-state.json')
  const displays = [screen.getPrimaryDisplay(), ...screen.getAllDisplays()].map((d): Rect => d.workArea)
  const state = fitToDisplays(parseWindowState(readJson(stateFile)), displays)
  const window = new BrowserWindow({
    ...(state.x === undefined || state.y === undefined ? {} : { x: state.x, y: state.y }),
    width: state.width,
    height: state.height,
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    show: false,
    title: 'Hearth',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16171a' : '#ffffff',
    ...(process.platform === 'linux' ? { icon: join(app.getAppPath(), 'electron', 'resources', 'icons', '256x256.png') } : {}),
    webPreferences: secureWebPreferences({ preload: join(__dirname, 'preload.cjs'), devTools: !app.isPackaged }),
  })
  mainWindow = window
  if (state.maximized) window.maximize()
  window.once('ready-to-show', () => window.show())

  let saveTimer: NodeJS.Timeout | undefined
  const save = () => {
    clearTimeout(saveTimer)
    if (window.isDestroyed() || window.isMinimized() || window.isFullScreen()) return
    writeJsonAtomic(stateFile, stateToSave(window.getNormalBounds(), window.isMaximized()))
  }
  const saveSoon = () => {
    clearTimeout(saveTimer)
    saveTimer = setTimeout(save, SAVE_WINDOW_STATE_DELAY_MS)
  }
  window.on('resize', saveSoon)
  window.on('move', saveSoon)
  window.on('maximize', saveSoon)
  window.on('unmaximize', saveSoon)
  window.on('close', save)
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined
    rendererListening = false
  })
  window.webContents.on('did-start-loading', () => (rendererListening = false))
  let lastCrash = 0
  window.webContents.on('render-process-gone', (_event, details) => {
    log.warn('the window’s renderer is gone', { reason: details.reason })
    // A crashed page is blank: reload it, but not in a loop if it crashes again at once.
    if (details.reason !== 'clean-exit' && Date.now() - lastCrash > 60_000) window.webContents.reload()
    lastCrash = Date.now()
  })
  drop(window.loadURL(APP_ENTRY_URL), logError)
}

function focusWindow(): void {
  if (mainWindow === undefined) {
    if (shellReady) createWindow()
    return
  }
  if (mainWindow.isMinimized()) mainWindow.restore()
  mainWindow.show()
  mainWindow.focus()
}

// -------------------------------------------------------------------------------------------- OS integration

function registerProtocolClient(): void {
  // Unpackaged (`electron .`), the OS must start Electron with our app folder; packaged installers also declare it.
  const ok =
    process.defaultApp && process.argv[1] !== undefined
      ? app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [resolve(process.argv[1])])
      : app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME)
  if (!ok) log.warn('could not register as the hearth:// handler')
}

/** An invite link from outside: validated, then handed to the window (or kept until its preload listens). */
function receiveLink(raw: string): void {
  const link = parseDeepLink(raw)
  if (link === null) {
    log.warn('ignored a malformed hearth:// link')
    return
  }
  focusWindow()
  if (mainWindow !== undefined && rendererListening) {
    mainWindow.webContents.send(IPC.deepLink, link.url)
    return
  }
  pendingLinks.push(link.url)
  if (pendingLinks.length > MAX_PENDING_LINKS) pendingLinks.shift()
}

function showNotification(content: NotificationContent): void {
  if (!Notification.isSupported()) return
  const notification = new Notification({ title: content.title, body: content.body })
  liveNotifications.add(notification)
  notification.on('click', () => {
    focusWindow()
    if (rendererListening) mainWindow?.webContents.send(IPC.openConversation, content.conversationId)
  })
  notification.on('close', () => liveNotifications.delete(notification))
  notification.show()
}

let overlayIcon: Electron.NativeImage | undefined

function setBadge(count: number): void {
  if (process.platform === 'win32') {
    // Windows has no badge count; a red dot overlays the taskbar button, the count goes to screen readers.
    overlayIcon ??= nativeImage.createFromBuffer(Buffer.from(dotPng(32, [0xd9, 0x2d, 0x20])))
    mainWindow?.setOverlayIcon(count > 0 ? overlayIcon : null, count > 0 ? `${badgeLabel(count)} unread` : '')
    return
  }
  // macOS dock and Linux launchers that support it (Unity API); elsewhere this is a no-op.
  app.setBadgeCount(count)
}

async function offerRetry(logFile: string, code: number): Promise<void> {
  const options = {
    type: 'error' as const,
    message: 'Hearth’s core keeps stopping',
    detail: `It exited with code ${code} several times in a row. Its log is at ${logFile}.`,
    buttons: ['Try again', 'Quit'],
    defaultId: 0,
    cancelId: 1,
  }
  const { response } = mainWindow === undefined ? await dialog.showMessageBox(options) : await dialog.showMessageBox(mainWindow, options)
  if (response === 0) supervisor?.retry()
  else app.quit()
}

// ---------------------------------------------------------------------------------------------------- helpers

/** The core's environment: ours without variables that would turn Node features back on in it. */
function coreEnvironment(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'NODE_OPTIONS' || key === 'ELECTRON_RUN_AS_NODE') continue
    env[key] = value
  }
  return env
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true })
    writeFileSync(`${file}.tmp`, JSON.stringify(value))
    renameSync(`${file}.tmp`, file)
  } catch (err) {
    log.warn('could not save the window state', { err })
  }
}

// ---------------------------------------------------------------------------------------------------------- start

// Last, so every module-level binding above exists when start() runs (it is synchronous up to `ready`).
if (!app.requestSingleInstanceLock()) {
  // Another Hearth runs for this profile: it got our argv (and any hearth:// link) through 'second-instance'.
  app.quit()
} else {
  start()
}
