/**
 * A transport that comes back by itself. When the browser mode's socket closes (Hearth stopped, restarted, the machine
 * slept) it tells its listeners, then opens a new one with growing pauses until it succeeds, and re-attaches every
 * event listener to it. A restarted Hearth listens on the same port with the same token (browser-session.ts), so an
 * open tab reconnects without the person doing anything; the page then starts over from `app.status` (App.tsx).
 */
import { HearthError } from '../../../node/common/errors.js'
import type { Transport } from './transport.js'

/** Pauses between attempts: quick at first (a restart takes a second or two), then every few seconds for as long as it takes. */
export const RECONNECT_DELAYS_MS = [250, 500, 1_000, 2_000, 3_000, 5_000]

export interface ReconnectOptions {
  delaysMs?: readonly number[]
  sleep?: (ms: number) => Promise<void>
}

export interface ReconnectingTransport extends Transport {
  /** Called after every successful reconnection. */
  onReconnect(listener: () => void): () => void
}

export async function reconnectingTransport(open: () => Promise<Transport>, options: ReconnectOptions = {}): Promise<ReconnectingTransport> {
  const delays = options.delaysMs ?? RECONNECT_DELAYS_MS
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const closeListeners = new Set<(reason: string) => void>()
  const reconnectListeners = new Set<() => void>()
  let current: Transport | undefined
  let detach: Array<() => void> = []
  let stopped = false

  function forward(transport: Transport, event: string): () => void {
    return transport.on(event, (payload) => {
      for (const l of listeners.get(event) ?? []) l(payload)
    })
  }

  function attach(transport: Transport): void {
    current = transport
    detach = [...listeners.keys()].map((event) => forward(transport, event))
    detach.push(
      transport.onClose((reason) => {
        if (current !== transport) return
        for (const off of detach.splice(0)) off()
        current = undefined
        for (const l of closeListeners) l(reason)
        if (!stopped) void reconnect()
      }),
    )
  }

  async function reconnect(): Promise<void> {
    for (let attempt = 0; !stopped; attempt++) {
      await sleep(delays[Math.min(attempt, delays.length - 1)]!)
      if (stopped) return
      let next: Transport
      try {
        next = await open()
      } catch {
        continue
      }
      if (stopped) {
        next.close()
        return
      }
      attach(next)
      for (const l of reconnectListeners) l()
      return
    }
  }

  attach(await open())

  return {
    call(method, params) {
      if (current === undefined) return Promise.reject(new HearthError('NOT_RUNNING', 'This window lost its connection to Hearth and is trying to reconnect.'))
      return current.call(method, params)
    },
    on(event, listener) {
      let set = listeners.get(event)
      if (set === undefined) {
        set = new Set()
        listeners.set(event, set)
        if (current !== undefined) detach.push(forward(current, event))
      }
      set.add(listener)
      return () => set.delete(listener)
    },
    onClose(listener) {
      closeListeners.add(listener)
      return () => closeListeners.delete(listener)
    },
    onReconnect(listener) {
      reconnectListeners.add(listener)
      return () => reconnectListeners.delete(listener)
    },
    close() {
      stopped = true
      const transport = current
      current = undefined
      for (const off of detach.splice(0)) off()
      transport?.close()
    },
  }
}
