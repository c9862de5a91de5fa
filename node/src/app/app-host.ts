/**
 * The app host: what the desktop app and the browser mode run around the core. It owns the identity's life (create
 * with a recovery phrase confirmed before anything is saved, restore, unlock) and, once the core is open, hands every
 * core method to the core's dispatcher. It speaks the same `Dispatcher` interface as that dispatcher, so any carrier
 * (the WebSocket of the browser mode, Electron's MessagePort from a utility process) serves it unchanged; it knows
 * nothing of HTTP, WebSockets or Electron.
 *
 * States: new → (app.create) → confirming → (app.confirmRecovery) → starting → ready
 *         new → (app.restore) → starting → ready;   locked → (app.unlock) → starting → ready;   any → stopped.
 *         new → (app.linkStart) → linking → (the other device admitted this one) → starting → ready;
 *         linking → (app.linkCancel, a refused or failed link) → new;
 *         ready → (another device of the account revoked this one: wiped) → new, with notice 'revoked'.
 * Before `ready` core methods are refused: NO_IDENTITY without an identity, NOT_RUNNING while locked or starting.
 */
import { randomInt } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import type { KeyProvider } from '../../common/crypto/keystore.js'
import { HearthError, drop } from '../../common/errors.js'
import type { EventPush, Response, Result, ValidParams } from '../api/contract.js'
import { isAppMethod, type AppMethod } from '../api/contract.js'
import { answer, createDispatcher, failure, parseRequest, type Dispatcher } from '../api/dispatcher.js'
import type { AppInfo, AppState, AppStatus, LinkOfferView } from '../api/types.js'
import { openLocalCore, type LocalCore } from '../cli/local-core.js'
import type { Core } from '../core/core.js'
import type { LinkedDevice } from '../core/devices/new-device.js'
import { Logger } from '../core/logger.js'
import { initDataDir } from '../core/open-core.js'
import { SerialQueue } from '../core/serial-queue.js'
import { createIdentity, identityExists, saveIdentity, type Identity } from '../identity/identity.js'
import { createAccountKeys, PassphraseAttempts, switchableKeyProvider, type AccountKeys } from './account-keys.js'
import { writeListenPorts } from '../cli/state-files.js'
import { corePortAfterLink, freePort, linkFailureText, startNewDeviceLink, withPort, type NewDeviceLink } from './link-new-device.js'
import { hearthVersion } from './version.js'
import { wipeDevice } from './wipe-device.js'

/** How many words of the recovery phrase a person types back before the identity is saved. */
export const CONFIRM_WORD_COUNT = 3
/** Debounce for saving members' addresses after the peer set changes (identify needs a moment to fill them in). */
const REMEMBER_DELAY_MS = 2_000

export interface AppNetworkOptions {
  /** Pinned listen multiaddrs. Absent or empty: the ports this data dir used last, so invites stay valid. */
  listen?: string[]
  /** LAN discovery. Default on. */
  mdns?: boolean
  /** Relays or always-on peers to dial at start (multiaddrs ending in /p2p/<PeerId>). */
  bootstrap?: string[]
}

export interface AppHostOptions {
  dataDir: string
  /**
   * Makes the provider that wraps the keys at rest from what the person typed (undefined where no passphrase is
   * asked). The browser mode wraps with the passphrase; Electron with safeStorage, ignoring it. May throw a
   * HearthError (shown to the person as is).
   */
  keyProvider: (passphrase: string | undefined) => KeyProvider
  /** Whether create, restore and unlock must be given a passphrase. Default true. */
  needsPassphrase?: boolean
  network?: AppNetworkOptions
  logger?: Logger
  /** Anti-entropy interval of the core (tests lower it). */
  syncIntervalMs?: number
  /** Extra runtime versions for `app.info` (Electron adds electron and chrome). */
  runtime?: Record<string, string>
  /** How long a link code this device shows stays usable (tests shorten it). Default 10 minutes. */
  linkLifetimeMs?: number
}

export interface AppHost extends Dispatcher {
  /** The current state (what `app.status` answers). */
  status(): AppStatus
  /** Closes the core (remembering peers' addresses) and refuses everything afterwards. Idempotent. */
  close(): Promise<void>
}

interface PendingIdentity {
  identity: Identity
  phrase: string
  positions: number[]
  passphrase: string | undefined
}

interface PendingLink {
  session: NewDeviceLink
  provider: KeyProvider
  cancelled: boolean
  /** The code shown, once there is one. */
  link?: string
}

type AppHandlers = { [M in AppMethod]: (params: ValidParams<M>) => Result<M> | Promise<Result<M>> }

export function createAppHost(options: AppHostOptions): AppHost {
  const { dataDir } = options
  const log = options.logger ?? Logger.silent()
  const needsPassphrase = options.needsPassphrase ?? true
  const listeners = new Set<(push: EventPush) => void>()
  // Onboarding steps and closing run one at a time: two tabs pressing "unlock" together must open the core once.
  const lifecycle = new SerialQueue()

  let state: AppState = identityExists(dataDir) ? 'locked' : 'new'
  let pending: PendingIdentity | undefined
  let linking: PendingLink | undefined
  let notice: AppStatus['notice']
  let local: LocalCore | undefined
  let core: Dispatcher | undefined
  let account: AccountKeys | undefined
  const attempts = new PassphraseAttempts()
  const cleanups: Array<() => void> = []

  const status = (): AppStatus => ({ state, needsPassphrase, ...(notice === undefined ? {} : { notice }) })

  function emit(push: EventPush): void {
    for (const listener of listeners) {
      // A failing carrier must not break the host or the other carriers.
      try {
        listener(push)
      } catch (err) {
        log.warn({ err, event: push.event }, 'event listener failed')
      }
    }
  }

  function setState(next: AppState): void {
    if (next === state) return
    state = next
    // A notice is about the screen it came with: anything the person does next replaces it.
    if (next !== 'new') notice = undefined
    emit({ event: 'app.changed', payload: { status: status() } })
  }

  function providerFor(passphrase: string | undefined): KeyProvider {
    if (needsPassphrase && (passphrase === undefined || passphrase.length === 0)) {
      throw new HearthError('INVALID_INPUT', 'a passphrase is needed')
    }
    return options.keyProvider(needsPassphrase ? passphrase : undefined)
  }

  function requireState(allowed: AppState[], action: string): void {
    if (allowed.includes(state)) return
    if (state === 'stopped') throw new HearthError('NOT_RUNNING', 'Hearth is shutting down')
    if (state === 'ready' || state === 'locked' || state === 'starting') {
      throw new HearthError('IDENTITY_EXISTS', `${dataDir} already holds a Hearth identity: cannot ${action}`)
    }
    throw new HearthError('NO_IDENTITY', `there is no identity yet: cannot ${action}`)
  }

  /**
   * Opens the core for the identity on disk; on failure the identity stays locked (it exists by now). `beforeReady`
   * runs on the open core before the UI is told it is ready (a linked device takes its conversations there).
   */
  async function open(provider: KeyProvider, beforeReady?: (core: Core) => Promise<void>, listen?: string[]): Promise<AppStatus> {
    setState('starting')
    const network = { ...options.network, ...(listen === undefined ? {} : { listen }) }
    // Switchable: a passphrase change re-keys the identity file and the core's later writes of it (account-keys.ts).
    const live = switchableKeyProvider(provider)
    try {
      local = await openLocalCore({ dataDir, listen: network.listen ?? [] }, live, {
        mdns: network.mdns ?? true,
        bootstrap: network.bootstrap ?? [],
        logger: log,
        ...(options.syncIntervalMs === undefined ? {} : { syncIntervalMs: options.syncIntervalMs }),
      })
    } catch (err) {
      setState('locked')
      throw err
    }
    const opened = local
    const dispatcher = createDispatcher(opened.opened.core, { logger: log })
    cleanups.push(dispatcher.subscribe(emit))
    let rememberTimer: NodeJS.Timeout | undefined
    cleanups.push(
      opened.opened.core.events.on('peer.changed', () => {
        // Remember where members' devices listen, so a restarted app reaches them without mDNS.
        clearTimeout(rememberTimer)
        rememberTimer = setTimeout(() => drop(opened.remember()), REMEMBER_DELAY_MS)
        rememberTimer.unref()
      }),
      () => clearTimeout(rememberTimer),
    )
    cleanups.push(
      // Another device of the account revoked this one: the core stops by itself; the host wipes what it left.
      opened.opened.core.events.on('device.revoked', () => drop(lifecycle.run(() => wipeRevoked(opened)))),
    )
    if (beforeReady !== undefined) {
      try {
        await beforeReady(opened.opened.core)
      } catch (err) {
        log.warn({ err }, 'could not finish opening the core')
      }
    }
    core = dispatcher
    account = createAccountKeys({ dataDir, needsPassphrase, providerFor, live, identity: opened.opened.identity, attempts })
    setState('ready')
    return status()
  }

  const handlers: AppHandlers = {
    'app.status': () => status(),

    'app.info': (): AppInfo => ({
      version: hearthVersion(),
      dataDir,
      runtime: { node: process.versions.node, ...options.runtime },
    }),

    'app.create': (p) =>
      lifecycle.run(async () => {
        requireState(['new', 'confirming'], 'create another')
        providerFor(p.passphrase) // refuse a missing passphrase now, not after the phrase was shown
        // Nothing is saved until the phrase is confirmed: an app closed before that leaves no identity behind.
        const { identity, recoveryPhrase } = await createIdentity(p.name, Date.now())
        const positions = pickPositions(recoveryPhrase.split(' ').length, CONFIRM_WORD_COUNT)
        pending = { identity, phrase: recoveryPhrase, positions, passphrase: p.passphrase }
        setState('confirming')
        return { recoveryPhrase, confirmPositions: positions }
      }),

    'app.confirmRecovery': (p) =>
      lifecycle.run(async () => {
        requireState(['confirming'], 'confirm a recovery phrase')
        const draft = pending!
        const words = draft.phrase.split(' ')
        const typed = p.words.map(normalizeWord)
        if (typed.length !== draft.positions.length || draft.positions.some((pos, i) => words[pos - 1] !== typed[i])) {
          // Which word was wrong is not said: the person looks at what they wrote down again.
          throw new HearthError('INVALID_RECOVERY_PHRASE', 'those words do not match the recovery phrase')
        }
        const provider = providerFor(draft.passphrase)
        await mkdir(dataDir, { recursive: true, mode: 0o700 })
        if (identityExists(dataDir)) throw new HearthError('IDENTITY_EXISTS', `${dataDir} already holds a Hearth identity`)
        await saveIdentity(dataDir, draft.identity, provider)
        pending = undefined
        return open(provider)
      }),

    'app.restore': (p) =>
      lifecycle.run(async () => {
        requireState(['new', 'confirming'], 'restore')
        const provider = providerFor(p.passphrase)
        await initDataDir(dataDir, p.name, provider, { recoveryPhrase: p.phrase })
        pending = undefined
        return open(provider)
      }),

    'app.unlock': (p) =>
      lifecycle.run(async () => {
        if (state === 'ready') return status()
        requireState(['locked'], 'unlock')
        return open(providerFor(p.passphrase))
      }),

    'app.linkStart': (p) =>
      lifecycle.run(async (): Promise<LinkOfferView> => {
        requireState(['new'], 'link this device')
        const provider = providerFor(p.passphrase)
        const session = startNewDeviceLink({
          network: options.network ?? {},
          ...(p.name === undefined ? {} : { displayName: p.name }),
          ...(options.linkLifetimeMs === undefined ? {} : { lifetimeMs: options.linkLifetimeMs }),
          onStage: (payload) => emit({ event: 'app.linking', payload }),
        })
        const current: PendingLink = { session, provider, cancelled: false }
        linking = current
        setState('linking')
        session.done.then(
          (linked) => drop(lifecycle.run(() => finishLink(current, linked))),
          (err: unknown) => linkFailed(current, err),
        )
        try {
          const offer = await session.offer
          current.link = offer.link
          return offer
        } catch (err) {
          linkFailed(current, err)
          throw err
        }
      }),

    'app.linkConfirm': (p) => {
      if (state !== 'linking' || linking === undefined) throw new HearthError('NOT_FOUND', 'this device is not being linked')
      linking.session.confirm(p.accept)
      return null
    },

    // Not queued behind app.linkStart: the person may cancel while the code is still being made.
    'app.linkCancel': () => {
      const current = linking
      if (current === undefined) return null
      current.cancelled = true
      linking = undefined
      current.session.cancel()
      if (state === 'linking') setState('new')
      return null
    },

    'account.status': () => requireAccount().status(),
    'account.recoveryPhrase': (p) => requireAccount().recoveryPhrase(p.passphrase),
    // One at a time with unlock and close: the file is not re-wrapped while the core is being opened or closed.
    'account.changePassphrase': (p) =>
      lifecycle.run(async () => {
        await requireAccount().changePassphrase(p.current, p.next)
        return null
      }),
  }

  /** The pairing ended without a device: back to the start, saying why unless the person cancelled. */
  function linkFailed(current: PendingLink, err: unknown): void {
    if (linking !== current) return
    linking = undefined
    if (!current.cancelled) emit({ event: 'app.linking', payload: { stage: 'failed', error: linkFailureText(err) } })
    if (state === 'linking') setState('new')
  }

  /**
   * The other device admitted this one: save the identity under the person's passphrase, open the core, reach the
   * device that linked us (mDNS or the relay find it anyway if this fails) and take the conversations it sent.
   */
  async function finishLink(current: PendingLink, linked: LinkedDevice): Promise<void> {
    if (linking !== current || state !== 'linking') return
    linking = undefined
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      if (identityExists(dataDir)) throw new HearthError('IDENTITY_EXISTS', `${dataDir} already holds a Hearth identity`)
      await saveIdentity(dataDir, linked.identity, current.provider)
    } catch (err) {
      log.warn({ err }, 'could not save the linked identity')
      emit({ event: 'app.linking', payload: { stage: 'failed', error: 'This device could not save its keys. Check there is space on the disk, then try again.' } })
      setState('new')
      return
    }
    // Where the device that linked us last reached us (link-new-device.ts): the core listens there too.
    const port = current.link === undefined ? null : corePortAfterLink(current.link)
    const pinned = options.network?.listen ?? []
    let listen: string[] | undefined
    if (port !== null && pinned.length > 0) listen = withPort(pinned, port)
    else if (port !== null) await writeListenPorts(dataDir, { tcp: port, ws: await freePort() }).catch(() => {})
    try {
      await open(
        current.provider,
        async (opened) => {
          const from = linked.from
          if (from === null) return
          // The conversations first, then the connection: a device that meets the linking device with none would
          // ask it for them a second time (devices/restore.ts).
          const imported = opened.devices.importLinked(linked.conversations, from.peerId, linked.pending)
          if (from.address !== null) await opened.node.dial(from.address).catch(() => {})
          await imported
        },
        listen,
      )
    } catch (err) {
      // The identity is saved: unlocking later opens it (the conversations come again from the other device's sync).
      log.warn({ err }, 'could not open the core after linking')
      emit({ event: 'app.linking', payload: { stage: 'failed', error: linkFailureText(err) } })
    }
  }

  /** This device was revoked: close the core and wipe everything it kept, then start over. */
  async function wipeRevoked(opened: LocalCore): Promise<void> {
    if (local !== opened) return
    core = undefined
    account = undefined
    for (const cleanup of cleanups.splice(0)) cleanup()
    try {
      await opened.close()
    } catch (err) {
      log.warn({ err }, 'closing the revoked core failed; wiping anyway')
    }
    local = undefined
    await wipeDevice(dataDir)
    log.warn('this device was revoked by another device of the account: its identity and data are wiped')
    setState('new')
    notice = 'revoked'
    emit({ event: 'app.changed', payload: { status: status() } })
  }

  function requireAccount(): AccountKeys {
    if (account !== undefined && state === 'ready') return account
    if (state === 'new' || state === 'confirming') throw new HearthError('NO_IDENTITY', 'there is no identity yet: create or restore one first')
    throw new HearthError('NOT_RUNNING', 'Hearth is locked: unlock it first')
  }

  async function handle(raw: unknown): Promise<Response> {
    const request = parseRequest(raw)
    if (!request.ok) return request.response
    const { id, method, params } = request
    if (isAppMethod(method)) {
      return answer(id, method, log, () => (handlers[method] as (params: unknown) => unknown)(params))
    }
    if (core !== undefined && state === 'ready') return core.handle(raw)
    switch (state) {
      case 'new':
      case 'confirming':
      case 'linking':
        return failure(id, 'NO_IDENTITY', 'there is no identity yet: create or restore one first')
      case 'locked':
        return failure(id, 'NOT_RUNNING', 'Hearth is locked: unlock it first')
      default:
        return failure(id, 'NOT_RUNNING', `Hearth is not running (${state})`)
    }
  }

  let closing: Promise<void> | undefined
  return {
    handle,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    status,
    close() {
      closing ??= lifecycle.run(async () => {
        setState('stopped')
        core = undefined
        account = undefined
        pending = undefined
        linking?.session.cancel()
        linking = undefined
        for (const cleanup of cleanups.splice(0)) cleanup()
        listeners.clear()
        await local?.close()
        local = undefined
      })
      return closing
    },
  }
}

/** `count` distinct 1-based positions out of `total`, in increasing order (the order they are written down). */
export function pickPositions(total: number, count: number): number[] {
  const chosen = new Set<number>()
  while (chosen.size < Math.min(count, total)) chosen.add(randomInt(1, total + 1))
  return [...chosen].sort((a, b) => a - b)
}

/** What a person types back: any case, stray spaces, composed or decomposed (as recovery.ts reads phrases). */
function normalizeWord(word: string): string {
  return word.normalize('NFKD').trim().toLowerCase()
}
