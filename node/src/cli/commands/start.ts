import { passphraseKeyProvider } from '../../../common/crypto/keystore.js'
import { HearthError, drop } from '../../../common/errors.js'
import { createDispatcher } from '../../api/dispatcher.js'
import type { PeerView } from '../../api/types.js'
import { startApiServer } from '../../api/ws-server.js'
import { initDataDir } from '../../core/open-core.js'
import { identityExists } from '../../identity/identity.js'
import type { Context } from '../context.js'
import { fingerprint, formatPeer, shortPeer, table } from '../format.js'
import { getPassphrase } from '../prompt.js'
import { mdnsEnabled } from '../env.js'
import { openLocalCoreWaiting, probeDaemon, staleDaemonNote } from '../session.js'
import { apiFilePath, removeApiFile, writeApiFile } from '../state-files.js'
import { defaultName, printCreated } from './init.js'
import { UsageError } from '../args.js'

export interface StartOptions {
  name?: string
  apiPort?: string
}

/**
 * The headless daemon: opens the core (mDNS on unless HEARTH_MDNS=0), serves the core API on 127.0.0.1 and says what
 * happens on the network, until SIGINT/SIGTERM. Resolves once it has shut down cleanly.
 */
export async function runStart(ctx: Context, options: StartOptions): Promise<void> {
  const apiPort = parsePort(options.apiPort ?? process.env.HEARTH_API_PORT)
  const probe = await probeDaemon(ctx.dataDir)
  if (probe.kind === 'running') {
    probe.client.close()
    throw new HearthError('STORAGE_LOCKED', `a Hearth daemon is already running for ${ctx.dataDir} (pid ${probe.file.pid})`)
  }
  // api.json is replaced below; say why the one there did not count.
  if (probe.kind === 'dead') ctx.note(staleDaemonNote(ctx.dataDir, 'starting a new one.'))

  let passphrase: string
  if (!identityExists(ctx.dataDir)) {
    ctx.note(`No identity in ${ctx.dataDir} yet: creating one.`)
    passphrase = await getPassphrase(ctx, { choose: true })
    const created = await initDataDir(ctx.dataDir, defaultName(options.name), passphraseKeyProvider(passphrase))
    // With --json the daemon speaks one JSON object per line, so the new identity is one line too.
    if (ctx.json) {
      const { identity, recoveryPhrase } = created
      const event = { event: 'identity.created', account: identity.account, displayName: identity.displayName, recoveryPhrase }
      process.stdout.write(JSON.stringify({ at: Date.now(), ...event }) + '\n')
    } else {
      printCreated(ctx, created.identity, created.recoveryPhrase)
    }
  } else {
    passphrase = await getPassphrase(ctx)
  }

  const mdns = mdnsEnabled()
  const opened = await openLocalCoreWaiting(ctx, passphraseKeyProvider(passphrase), (text) => ctx.note(text), probe, { mdns, allowDaemon: false })
  const local = opened.core
  if (local === undefined) throw new HearthError('STORAGE_LOCKED', `a Hearth daemon is already running for ${ctx.dataDir}`)
  const { core } = local.opened
  const server = await startApiServer(createDispatcher(core, { logger: local.logger }), { port: apiPort, logger: local.logger })
  await writeApiFile(ctx.dataDir, { url: server.url, token: server.token, pid: process.pid })

  const me = core.whoami()
  const emit = (human: string, value: Record<string, unknown>) => {
    if (ctx.json) process.stdout.write(JSON.stringify({ at: Date.now(), ...value }) + '\n')
    else process.stdout.write(`[${new Date().toLocaleTimeString()}] ${human}\n`)
  }
  if (ctx.json) {
    emit('', { event: 'ready', whoami: me, api: server.url, apiFile: apiFilePath(ctx.dataDir), mdns, pid: process.pid })
  } else {
    process.stdout.write(
      [
        `Hearth is running as ${me.displayName}`,
        table(null, [
          ['  account', fingerprint(me.account)],
          ['  peer id', me.peerId],
          ['  listening', me.addresses.join('\n' + ' '.repeat(13))],
          ['  API', `${server.url} (token in ${apiFilePath(ctx.dataDir)})`],
          ['  LAN', mdns ? 'discovering peers with mDNS' : 'mDNS discovery is off (HEARTH_MDNS=0)'],
        ]),
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    )
  }

  // ------------------------------------------------------------------------------------------ what happens
  const announced = new Set<string>()
  const offDiscovered = core.node.onPeerDiscovered((peer, source) => {
    if (source !== 'mdns' || announced.has(peer)) return
    announced.add(peer)
    emit(`found ${shortPeer(peer)} on the LAN`, { event: 'peer.discovered', peer, source })
  })
  let connected = new Map<string, PeerView>()
  const update = (peers: PeerView[]) => {
    const now = new Map(peers.map((p) => [p.peerId, p]))
    for (const [id, p] of now) if (!connected.has(id)) emit(`connected to ${formatPeer(p)}`, { event: 'peer.connected', peer: p })
    for (const [id, p] of connected) if (!now.has(id)) emit(`disconnected from ${formatPeer(p)}`, { event: 'peer.disconnected', peer: p })
    connected = now
  }
  // Remembered peers are dialled while the core opens, so some connect before the ready line: report them right after
  // it, in the same turn as subscribing, so that none is missed or told twice.
  update(core.peers())
  let rememberTimer: NodeJS.Timeout | undefined
  const offPeers = core.events.on('peer.changed', ({ peers }) => {
    update(peers)
    // Remember where members can be reached once identify has told us their listen addresses.
    clearTimeout(rememberTimer)
    rememberTimer = setTimeout(() => drop(local.remember()), 2_000)
    rememberTimer.unref()
  })
  const offMessages = core.events.on('message.added', ({ conversation, message }) => {
    if (message.mine) return
    const name = (() => {
      try {
        return core.getConversation(conversation).name
      } catch {
        return conversation.slice(0, 8)
      }
    })()
    // Not the content: this is a log, and logs get pasted into bug reports.
    emit(`new message in “${name}” from ${message.authorName}`, { event: 'message', conversation, from: message.author, id: message.id })
  })

  // ------------------------------------------------------------------------------------------ shutdown
  await new Promise<void>((resolve, reject) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write('forced exit\n')
        process.exit(1)
      }
      stopping = true
      ctx.note(`${signal}: stopping…`)
      clearTimeout(rememberTimer)
      offDiscovered()
      offPeers()
      offMessages()
      drop(
        (async () => {
          await server.close()
          await removeApiFile(ctx.dataDir, process.pid)
          await local.close()
        })().then(() => {
          ctx.note('stopped')
          resolve()
        }, reject),
      )
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
  })
}

function parsePort(text: string | undefined): number {
  if (text === undefined || text === '') return 0
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid API port "${text}"`)
  return port
}
