import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { EventPush } from '../../node/src/api/contract.js'
import type { Dispatcher } from '../../node/src/api/dispatcher.js'
import { createDispatcher } from '../../node/src/api/dispatcher.js'
import { servePort } from '../../node/src/api/port-carrier.js'
import { openTempCore, type TempCore } from '../../node/src/api/testing.js'
import { BRIDGE_KEYS, createBridge, type BridgeTransport, type HearthBridge } from './bridge.js'
import type { ClientPort } from './port-client.js'

const INVITE = `hearth://join/${'A'.repeat(120)}`
const CONVERSATION = '0123456789abcdef0123456789abcdef'

/** A transport like the preload's, driven by the test: it hands ports and pushes links as main would. */
class FakeTransport implements BridgeTransport {
  portRequests = 0
  private portListener: ((port: ClientPort) => void) | undefined
  private linkListener: ((url: unknown) => void) | undefined
  private openListener: ((id: unknown) => void) | undefined
  requestPort() {
    this.portRequests++
  }
  onPort(listener: (port: ClientPort) => void) {
    this.portListener = listener
  }
  onDeepLink(listener: (url: unknown) => void) {
    this.linkListener = listener
  }
  onOpenConversation(listener: (id: unknown) => void) {
    this.openListener = listener
  }
  opened: unknown[] = []
  openAnswer: unknown = { ok: true, action: 'opened' }
  openFile(ref: unknown) {
    this.opened.push(ref)
    return Promise.resolve(this.openAnswer)
  }
  givePort(port: MessagePort) {
    this.portListener!(port as unknown as ClientPort)
  }
  link(url: unknown) {
    this.linkListener!(url)
  }
  open(id: unknown) {
    this.openListener!(id)
  }
}

/** Everything reachable from `value` through own properties (and function return values we can safely call). */
function reachable(root: unknown): unknown[] {
  const seen = new Set<unknown>()
  const queue = [root]
  while (queue.length > 0) {
    const value = queue.shift()
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue
    seen.add(value)
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)
      if (descriptor && 'value' in descriptor) queue.push(descriptor.value)
    }
  }
  return [...seen]
}

const NODE_OBJECTS: Array<[string, unknown]> = [
  ['process', process],
  ['require', typeof require === 'undefined' ? undefined : require],
  ['Buffer', Buffer],
  ['globalThis', globalThis],
  ['setImmediate', setImmediate],
]

describe('the preload bridge surface', () => {
  it('exposes only call/on/onClose/onDeepLink/onOpenConversation/openFile and the platform', () => {
    const transport = new FakeTransport()
    const bridge = createBridge(transport, { platform: 'linux' })
    expect(Reflect.ownKeys(bridge).sort()).toEqual([...BRIDGE_KEYS].sort())
    expect(Object.isFrozen(bridge)).toBe(true)
    expect(Object.getPrototypeOf(bridge)).toBe(Object.prototype)
    for (const key of BRIDGE_KEYS) {
      const value = (bridge as unknown as Record<string, unknown>)[key]
      expect(key === 'platform' ? typeof value === 'string' : typeof value === 'function').toBe(true)
    }
    expect(bridge.platform).toBe('linux')
  })

  it('leaks nothing of Node, of ipc or of the port through anything reachable', async () => {
    const transport = new FakeTransport()
    const bridge = createBridge(transport, { platform: 'darwin' })
    const { port1, port2 } = new MessageChannel()
    transport.givePort(port2)
    const things = [
      ...reachable(bridge),
      ...reachable(bridge.on('message.added', () => {})),
      ...reachable(bridge.onDeepLink(() => {})),
      ...reachable(bridge.onClose(() => {})),
      ...reachable(bridge.onOpenConversation(() => {})),
    ]
    for (const [name, object] of NODE_OBJECTS) {
      if (object !== undefined) expect(things.includes(object), `${name} is reachable`).toBe(false)
    }
    expect(things.includes(transport)).toBe(false)
    expect(things.includes(port2)).toBe(false)
    // Functions carry nothing but their standard own properties (no attached helpers or back doors).
    for (const fn of things.filter((t) => typeof t === 'function')) {
      for (const key of Reflect.ownKeys(fn as object)) expect(['length', 'name', 'prototype']).toContain(key)
    }
    port1.close()
  })

  it('passes only a well-formed file reference to main for Open, and only a well-formed answer back', async () => {
    const transport = new FakeTransport()
    const bridge = createBridge(transport, { platform: 'linux' })
    const ref = { conversationId: CONVERSATION, messageId: 'f'.repeat(32), index: 2 }
    await expect(bridge.openFile(ref)).resolves.toEqual({ action: 'opened' })
    // What main receives is a fresh object with exactly the three fields.
    expect(transport.opened).toEqual([ref])
    expect(transport.opened[0]).not.toBe(ref)
    for (const bad of [null, 'x', { ...ref, path: '/etc/passwd' }, { ...ref, index: 10 }, { ...ref, messageId: '../x' }]) {
      await expect(bridge.openFile(bad as never)).rejects.toMatchObject({ name: 'HearthError', code: 'INVALID_INPUT' })
    }
    expect(transport.opened).toHaveLength(1)
    // Writing a file to a path of the page's choosing is not the page's to ask for.
    await expect(bridge.call('files.save', { ...ref, path: '/home/me/.bashrc' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    transport.openAnswer = { ok: false, code: 'NOT_FOUND', message: 'not on this device yet' }
    await expect(bridge.openFile(ref)).rejects.toEqual({ name: 'HearthError', code: 'NOT_FOUND', message: 'not on this device yet' })
    for (const answer of [{ ok: true, action: 'run' }, { ok: false, code: 'NOPE', message: 'x' }, 'opened', undefined]) {
      transport.openAnswer = answer
      await expect(bridge.openFile(ref)).rejects.toMatchObject({ code: 'INTERNAL' })
    }
  })

  it('asks main for its port exactly once at start', () => {
    const transport = new FakeTransport()
    createBridge(transport, { platform: 'win32' })
    expect(transport.portRequests).toBe(1)
  })
})

describe('the preload script', () => {
  it('exposes the bridge as window.hearth through contextBridge and nothing else', async () => {
    const exposed: Array<[string, unknown]> = []
    const ipcRenderer = { send: vi.fn(), on: vi.fn(), invoke: vi.fn(), postMessage: vi.fn() }
    vi.doMock('electron', () => ({
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push([key, api]) },
      ipcRenderer,
    }))
    await import('./preload.js')
    vi.doUnmock('electron')
    expect(exposed).toHaveLength(1)
    const [key, api] = exposed[0]!
    expect(key).toBe('hearth')
    expect(Reflect.ownKeys(api as object).sort()).toEqual([...BRIDGE_KEYS].sort())
    const things = reachable(api)
    expect(things.includes(ipcRenderer)).toBe(false)
    for (const fn of Object.values(ipcRenderer)) expect(things.includes(fn)).toBe(false)
    for (const [name, object] of NODE_OBJECTS) {
      if (object !== undefined) expect(things.includes(object), `${name} is reachable`).toBe(false)
    }
    // The only channel it sends on is the port request; it listens to its three channels.
    expect(ipcRenderer.send.mock.calls).toEqual([['hearth:connect']])
    expect(ipcRenderer.on.mock.calls.map((c) => c[0]).sort()).toEqual(['hearth:deep-link', 'hearth:open-conversation', 'hearth:port'])
  })
})

describe('the preload bridge over a real core', () => {
  let alice: TempCore
  let dispatcher: Dispatcher
  beforeAll(async () => {
    alice = await openTempCore('bridge-alice')
    dispatcher = createDispatcher(alice.core)
  })
  afterAll(async () => {
    await alice.dispose()
  })

  function connected(): { bridge: HearthBridge; transport: FakeTransport; serve: () => ReturnType<typeof servePort> } {
    const transport = new FakeTransport()
    const bridge = createBridge(transport, { platform: 'linux', connectTimeoutMs: 2_000 })
    return {
      bridge,
      transport,
      serve: () => {
        const { port1, port2 } = new MessageChannel()
        const connection = servePort(dispatcher, port1)
        transport.givePort(port2)
        return connection
      },
    }
  }

  it('round-trips calls, waiting for the port when called early, with plain JSON results', async () => {
    const { bridge, serve } = connected()
    const early = bridge.call('identity.whoami')
    const connection = serve()
    const whoami = await early
    expect(whoami).toMatchObject({ displayName: 'bridge-alice', account: alice.identity.account })
    expect(Object.getPrototypeOf(whoami)).toBe(Object.prototype)
    const list = await bridge.call('conversations.list')
    expect(Array.isArray(list)).toBe(true)
    connection.close()
  })

  it('rejects with a plain { name, code, message } object, which survives contextBridge', async () => {
    const { bridge, serve } = connected()
    const connection = serve()
    const failure = await bridge.call('conversations.get', { conversationId: CONVERSATION }).then(
      () => null,
      (err: unknown) => err,
    )
    expect(failure).toEqual({ name: 'HearthError', code: 'NOT_FOUND', message: expect.any(String) })
    expect(failure instanceof Error).toBe(false)
    await expect(bridge.call(42 as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(bridge.call('messages.send', { conversationId: CONVERSATION, body: 'x'.repeat(1024 * 1024) })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    })
    connection.close()
  })

  it('delivers core events to listeners, and a throwing listener does not stop the others', async () => {
    const { bridge, serve } = connected()
    const connection = serve()
    const seen: string[] = []
    bridge.on('conversation.updated', () => {
      throw new Error('a UI bug')
    })
    const got = new Promise<EventPush<'conversation.updated'>['payload']>((resolve) => {
      bridge.on('conversation.updated', (payload) => {
        seen.push(payload.conversation.name)
        resolve(payload)
      })
    })
    const off = bridge.on('message.added', () => seen.push('never'))
    off()
    await bridge.call('conversations.create', { kind: 'group', name: 'Bridge family' })
    expect((await got).conversation.name).toBe('Bridge family')
    expect(seen).not.toContain('never')
    connection.close()
  })

  it('reports a lost core, fails the pending calls, and works again with the next port', async () => {
    const { bridge, serve } = connected()
    let connection = serve()
    await bridge.call('identity.whoami')
    const closed = new Promise<string>((resolve) => bridge.onClose(resolve))
    connection.close() // the core process died
    expect(await closed).toMatch(/stopped/)
    connection = serve() // restarted
    await expect(bridge.call('identity.whoami')).resolves.toMatchObject({ displayName: 'bridge-alice' })
    connection.close()
  })

  it('fails with NOT_RUNNING when no core comes', async () => {
    const transport = new FakeTransport()
    const bridge = createBridge(transport, { platform: 'linux', connectTimeoutMs: 50 })
    await expect(bridge.call('identity.whoami')).rejects.toEqual({ name: 'HearthError', code: 'NOT_RUNNING', message: expect.any(String) })
  })
})

describe('links from main', () => {
  let transport: FakeTransport
  let bridge: HearthBridge
  beforeEach(() => {
    transport = new FakeTransport()
    bridge = createBridge(transport, { platform: 'linux' })
  })

  it('keeps an invite link that arrived before the UI listened, then delivers it once', () => {
    transport.link(`  ${INVITE}/ `)
    const got: string[] = []
    bridge.onDeepLink((url) => got.push(url))
    expect(got).toEqual([INVITE])
    const later: string[] = []
    bridge.onDeepLink((url) => later.push(url))
    expect(later).toEqual([])
  })

  it('drops anything that is not a valid invite link, even from main', () => {
    const got: string[] = []
    bridge.onDeepLink((url) => got.push(url))
    for (const junk of ['https://evil.example/', 'hearth://evil/x', `${INVITE}?x=1`, 42, { url: INVITE }, null]) transport.link(junk)
    expect(got).toEqual([])
    transport.link(INVITE)
    expect(got).toEqual([INVITE])
  })

  it('passes only well-formed conversation ids from notification clicks', () => {
    const got: string[] = []
    bridge.onOpenConversation((id) => got.push(id))
    for (const junk of ['../../etc', CONVERSATION.toUpperCase(), 7, undefined]) transport.open(junk)
    transport.open(CONVERSATION)
    expect(got).toEqual([CONVERSATION])
  })

  it('ignores listeners that are not functions', () => {
    expect(typeof bridge.onDeepLink('nope' as never)).toBe('function')
    expect(typeof bridge.on('message.added', 5 as never)).toBe('function')
  })
})
