/**
 * The app host's side of making this fresh install a new device of an account already in use elsewhere
 * (`app.linkStart`): runs the pairing of core/devices/new-device.ts, tells each step as an `app.linking` event, and
 * hands back what the other device sent. Nothing here touches the disk: the host saves the identity and opens the core
 * only once the pairing succeeded (app-host.ts).
 */
import { HearthError, isHearthError } from '../../common/errors.js'
import type { NodeOptions } from '../../common/net/create-node.js'
import type { NewDeviceLinkingView } from '../api/types.js'
import { createServer } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { linkAsNewDevice, type LinkedDevice } from '../core/devices/new-device.js'
import { parseLinkCode } from '../identity/link-code.js'
import type { AppNetworkOptions } from './app-host.js'

export interface NewDeviceLink {
  /** The code to show and when it stops working; rejects if no code could be made. */
  offer: Promise<{ link: string; expiresAt: number }>
  /** What the other device sent, once the person accepted on both screens and the conversations arrived. */
  done: Promise<LinkedDevice>
  /** The person's answer after comparing the 6 digits. Refused unless they are on screen. */
  confirm(accept: boolean): void
  /** Stops the pairing (the temporary node stops; `done` rejects with LINK_CANCELLED). */
  cancel(): void
}

export interface NewDeviceLinkOptions {
  network: AppNetworkOptions
  displayName?: string
  /** Each step, for the UI. */
  onStage(view: NewDeviceLinkingView): void
  /** Tests shorten the code's life. */
  lifetimeMs?: number
}

export function startNewDeviceLink(options: NewDeviceLinkOptions): NewDeviceLink {
  const aborter = new AbortController()
  let answer: ((accept: boolean) => void) | undefined
  let answered: Promise<boolean> = Promise.resolve(false)
  let shown = false
  let cancelled = false
  let offered: (value: { link: string; expiresAt: number }) => void = () => {}
  let notOffered: (err: unknown) => void = () => {}
  const offer = new Promise<{ link: string; expiresAt: number }>((resolve, reject) => {
    offered = resolve
    notOffered = reject
  })
  const { listen, mdns, bootstrap = [] } = options.network
  // The temporary node listens where the core will (it stops before the core opens): the device that linked us keeps
  // trying the addresses it learnt of our PeerId when the pairing connection ends (member-reconnect.ts), so it finds
  // the new core there at once, with no LAN discovery (see `corePortAfterLink`).
  const network: Partial<NodeOptions> = {
    ...(listen === undefined || listen.length === 0 ? {} : { listen }),
    ...(mdns === undefined ? {} : { mdns }),
  }
  const done = linkAsNewDevice({
    network,
    relays: bootstrap,
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
    ...(options.lifetimeMs === undefined ? {} : { lifetimeMs: options.lifetimeMs }),
    signal: aborter.signal,
    onLink: (link, expiresAt) => {
      shown = true
      // Cancelled while the code was being made: the offer starts listening for the signal right after this call,
      // and an abort before that would go unheard.
      if (cancelled) {
        queueMicrotask(() => aborter.abort())
        notOffered(new HearthError('LINK_CANCELLED', 'Linking was cancelled'))
        return
      }
      offered({ link, expiresAt })
      options.onStage({ stage: 'waiting', link, expiresAt })
    },
    onConfirmationCode: (code) => {
      // Ready before the event goes out: the person may answer at once.
      answered = new Promise<boolean>((resolve) => (answer = resolve))
      options.onStage({ stage: 'confirm', code })
    },
    confirm: () => answered,
  })
  // A failure before any code was shown is the offer's failure too.
  done.catch((err: unknown) => notOffered(err))
  return {
    offer,
    done,
    confirm(accept) {
      const resolve = answer
      if (resolve === undefined) throw new HearthError('NOT_FOUND', 'there are no digits to compare yet')
      answer = undefined
      if (accept) options.onStage({ stage: 'receiving' })
      resolve(accept)
    },
    cancel() {
      cancelled = true
      answer?.(false)
      answer = undefined
      if (shown) aborter.abort()
    },
  }
}

/**
 * The TCP port the temporary node listened on, read from the code it showed: the core opens on that port so the
 * device that linked us reaches it where it reached the temporary node. Null for a relay circuit (the core's own
 * reservation makes it reachable there) or anything else.
 */
export function corePortAfterLink(link: string): number | null {
  let address: string
  try {
    address = multiaddr(parseLinkCode(link).locator).toString()
  } catch {
    return null
  }
  if (address.includes('/p2p-circuit')) return null
  const m = /\/tcp\/(\d+)(\/|$)/.exec(address)
  const port = m === null ? 0 : Number(m[1])
  return port > 0 && port < 65536 && !address.includes('/ws') ? port : null
}

/** Pinned listen addresses with a free port (`/tcp/0`) take `port` instead: any port would do, this one is known. */
export function withPort(listen: string[], port: number): string[] {
  return listen.map((a) => (/\/tcp\/0(\/|$)/.test(a) && !a.includes('/ws') ? a.replace('/tcp/0', `/tcp/${port}`) : a))
}

/** Words for a failed link: the pairing's own messages are written for people; anything else is said plainly. */
export function linkFailureText(err: unknown): string {
  if (isHearthError(err)) return err.message
  return 'Linking failed on this device. Try again.'
}

/**
 * A TCP port free right now on every interface, for the WebSocket listener of a core whose TCP port is chosen
 * (`corePortAfterLink`): the core's listen ports are remembered as a pair, and one taken meanwhile makes the core
 * fall back to new ports (cli/local-core.ts), so a race here costs only the reconnect shortcut.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '0.0.0.0', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}
