/**
 * Real separate hosts for tests: Linux network namespaces joined by veth pairs to bridges that live in namespaces of
 * their own, so nothing is created in the machine's own namespace and no traffic can leave what the test built (no
 * namespace gets a route to the real host). Root and iproute2 are needed; nftables for NAT and partitions.
 *
 * Every name starts with `hnt<pid>-`: a run removes what it made in `dispose()` and on process exit or a signal,
 * and the next run sweeps namespaces left by a run whose process is gone (a SIGKILLed test runner), killing what still
 * runs inside them first.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { constants } from 'node:os'

const PREFIX = 'hnt'

/** Why namespaces cannot be made here, or undefined when they can (checked by making and removing one). */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return `network namespaces need root (running as uid ${String(process.getuid?.())})`
  const probe = `${PREFIX}${process.pid}-probe`
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' })
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' })
  } catch (err) {
    return `cannot create a network namespace with \`ip netns add\` (${errorText(err)}); install iproute2 and run as root`
  }
  try {
    execFileSync('nft', ['--version'], { stdio: 'pipe' })
  } catch (err) {
    return `nftables is missing (${errorText(err)}): apt-get install nftables`
  }
  return undefined
}

function errorText(err: unknown): string {
  const e = err as { stderr?: Buffer; message?: string }
  const stderr = e.stderr?.toString().trim()
  return stderr !== undefined && stderr !== '' ? stderr : (e.message ?? String(err))
}

/** Runs a command, throwing with its stderr when it fails. */
export function sh(args: string[], input?: string): string {
  try {
    return execFileSync(args[0]!, args.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], input, encoding: 'utf8' })
  } catch (err) {
    throw new Error(`${args.join(' ')}: ${errorText(err)}`)
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function namespaces(): string[] {
  return sh(['ip', 'netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name !== '')
}

function killInside(ns: string): void {
  let pids: number[] = []
  try {
    pids = sh(['ip', 'netns', 'pids', ns]).split('\n').filter(Boolean).map(Number)
  } catch {
    return
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }
}

function removeNamespace(ns: string): void {
  killInside(ns)
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' })
  } catch {
    // Already gone.
  }
}

/** Removes namespaces left by earlier runs whose test process no longer exists; returns their names. */
export function sweepStale(): string[] {
  const stale = namespaces().filter((ns) => {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(ns)
    return match !== null && Number(match[1]) !== process.pid && !alive(Number(match[1]))
  })
  for (const ns of stale) removeNamespace(ns)
  return stale
}

export interface Lab {
  /** The real namespace name for a short one. */
  ns(name: string): string
  /** A host: a namespace with loopback up. */
  host(name: string): void
  /** A switch: a namespace holding bridge br0, so the bridge is never in the machine's own namespace. */
  switch(name: string): void
  /**
   * Plugs `host` into `sw` with a veth pair: `ifname` in the host (default eth0) with `address` (CIDR), the other end
   * a port of the bridge. Multicast is routed on the link unless `multicast` is false (mDNS needs a route for
   * 224.0.0.251; it is not a way out, and a namespace has one such route, so a router's second link goes without).
   */
  plug(host: string, sw: string, address: string, options?: { ifname?: string; multicast?: boolean }): void
  /** `ip` in a namespace: lab.ip('a', 'route', 'add', ...). */
  ip(name: string, ...args: string[]): string
  /** A command run inside a namespace. */
  exec(name: string, args: string[], input?: string): string
  /** nftables rules loaded in a namespace (`nft -f -`). */
  nft(name: string, rules: string): void
  /** A process started inside a namespace; killed with the lab. */
  spawn(name: string, command: string, args: string[], options?: SpawnOptions): ChildProcess
  /** Kills every process started and removes every namespace made; safe to call twice. */
  dispose(): void
}

/**
 * A lab of namespaces for this process. It fails (throws) where namespaces cannot be made, with the reason and what to
 * do, unless HEARTH_SKIP_NETNS=1: then it returns undefined and says loudly that the suite is skipped.
 */
export function openLab(tag: string): Lab | undefined {
  const why = netnsUnavailable()
  if (why !== undefined) {
    if (process.env.HEARTH_SKIP_NETNS === '1') {
      process.stderr.write(`\n*** SKIPPED: the network-namespace suite (${tag}) did not run: ${why}. HEARTH_SKIP_NETNS=1 is set. ***\n\n`)
      return undefined
    }
    throw new Error(
      `The network-namespace suite cannot run: ${why}. It needs Linux, root, iproute2 and nftables (CI runs it as root; ` +
        '.ci/run installs nftables). To skip it knowingly on a machine that cannot, set HEARTH_SKIP_NETNS=1.',
    )
  }
  const swept = sweepStale()
  if (swept.length > 0) process.stderr.write(`netns: removed ${swept.length} namespaces left by an earlier run: ${swept.join(' ')}\n`)

  const made: string[] = []
  const children = new Set<ChildProcess>()
  const full = (name: string): string => `${PREFIX}${process.pid}-${tag}-${name}`
  let disposed = false

  const dispose = (): void => {
    if (disposed) return
    disposed = true
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL')
        } catch {
          // Gone already.
        }
      }
    }
    for (const ns of made.splice(0).reverse()) removeNamespace(ns)
    process.off('exit', dispose)
    for (const signal of SIGNALS) process.off(signal, onSignal)
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    dispose()
    // Exiting (not re-raising the signal) runs the other 'exit' handlers too, such as the removal of data dirs.
    process.exit(128 + constants.signals[signal])
  }
  process.on('exit', dispose)
  for (const signal of SIGNALS) process.once(signal, onSignal)

  const lab: Lab = {
    ns: full,
    host(name) {
      const ns = full(name)
      sh(['ip', 'netns', 'add', ns])
      made.push(ns)
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    },
    switch(name) {
      lab.host(name)
      const ns = full(name)
      sh(['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge'])
      sh(['ip', '-n', ns, 'link', 'set', 'br0', 'up'])
    },
    plug(host, sw, address, options = {}) {
      const ifname = options.ifname ?? 'eth0'
      const port = `p-${host}-${ifname}`.slice(0, 15)
      sh(['ip', 'link', 'add', ifname, 'netns', full(host), 'type', 'veth', 'peer', 'name', port, 'netns', full(sw)])
      sh(['ip', '-n', full(sw), 'link', 'set', port, 'master', 'br0'])
      sh(['ip', '-n', full(sw), 'link', 'set', port, 'up'])
      sh(['ip', '-n', full(host), 'addr', 'add', address, 'dev', ifname])
      sh(['ip', '-n', full(host), 'link', 'set', ifname, 'up'])
      if (options.multicast !== false) sh(['ip', '-n', full(host), 'route', 'add', '224.0.0.0/4', 'dev', ifname])
    },
    ip: (name, ...args) => sh(['ip', '-n', full(name), ...args]),
    exec: (name, args, input) => sh(['ip', 'netns', 'exec', full(name), ...args], input),
    nft(name, rules) {
      sh(['ip', 'netns', 'exec', full(name), 'nft', '-f', '-'], rules)
    },
    spawn(name, command, args, options = {}) {
      // `ip netns exec` execs the command in place: the child's pid is the command's own, so killing it kills it.
      const child = spawn('ip', ['netns', 'exec', full(name), command, ...args], options)
      children.add(child)
      child.once('exit', () => children.delete(child))
      return child
    },
    dispose,
  }
  return lab
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
