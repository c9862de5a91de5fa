/**
 * Fetches held open until something is deposited in their mailbox (long-poll: how a connected member gets new
 * deposits pushed). Bounded overall and per peer, because each one holds a stream and a little memory; past a bound
 * the fetch is refused `busy` with a retry hint rather than answered empty at once, which would make a client's
 * watch loop spin.
 */

export interface Waiter {
  /** Resolves when the mailbox gets a deposit, or when all waiters are released (shutdown). */
  readonly woken: Promise<void>
  /** Stops waiting and frees the slot; idempotent. */
  release(): void
}

export class WaitingFetches {
  readonly #byMailbox = new Map<string, Set<() => void>>()
  readonly #perPeer = new Map<string, number>()
  #total = 0

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerPeer: number,
  ) {}

  get size(): number {
    return this.#total
  }

  /** A slot to wait on `mailbox`, or undefined when the relay or this peer is at its bound. */
  register(mailbox: string, peer: string): Waiter | undefined {
    const held = this.#perPeer.get(peer) ?? 0
    if (this.#total >= this.maxTotal || held >= this.maxPerPeer) return undefined
    this.#total++
    this.#perPeer.set(peer, held + 1)
    let wake!: () => void
    const woken = new Promise<void>((resolve) => {
      wake = resolve
    })
    let set = this.#byMailbox.get(mailbox)
    if (set === undefined) {
      set = new Set()
      this.#byMailbox.set(mailbox, set)
    }
    set.add(wake)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      wake()
      this.#total--
      const left = (this.#perPeer.get(peer) ?? 1) - 1
      if (left === 0) this.#perPeer.delete(peer)
      else this.#perPeer.set(peer, left)
      const current = this.#byMailbox.get(mailbox)
      current?.delete(wake)
      if (current?.size === 0) this.#byMailbox.delete(mailbox)
    }
    return { woken, release }
  }

  /** Wakes every fetch waiting on `mailbox`. */
  wake(mailbox: string): void {
    const set = this.#byMailbox.get(mailbox)
    if (set === undefined) return
    for (const wake of set) wake()
  }

  /** Wakes everything (shutdown: waiting fetches answer with what they have). */
  wakeAll(): void {
    for (const set of this.#byMailbox.values()) for (const wake of set) wake()
  }
}
