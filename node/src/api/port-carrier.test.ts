import { EventEmitter } from 'node:events'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventPush, Response } from './contract.js'
import { createDispatcher, type Dispatcher } from './dispatcher.js'
import { servePort, type EmitterPort, type PortConnection } from './port-carrier.js'
import { openTempCore, type TempCore } from './testing.js'
import { MAX_API_MESSAGE_BYTES } from './protocol.js'
import { DEFAULT_MAX_IN_FLIGHT } from './ws-server.js'

/** The far end of the port, as the shell's client uses it: JSON text out, responses by id and events in. */
class FarEnd {
  readonly events: EventPush[] = []
  readonly responses: Response[] = []
  private readonly waiters = new Map<unknown, (r: Response) => void>()
  private readonly eventWaiters: Array<{ test: (p: EventPush) => boolean; resolve: (p: EventPush) => void }> = []
  closed = false

  constructor(readonly port: MessagePort) {
    port.on('message', (text: unknown) => {
      const message = JSON.parse(text as string) as Response | EventPush
      if ('event' in message) {
        this.events.push(message)
        for (const w of this.eventWaiters.splice(0)) {
          if (w.test(message)) w.resolve(message)
          else this.eventWaiters.push(w)
        }
        return
      }
      this.responses.push(message)
      const waiter = this.waiters.get(message.id)
      this.waiters.delete(message.id)
      waiter?.(message)
    })
    port.on('close', () => (this.closed = true))
  }

  send(raw: unknown): void {
    this.port.postMessage(raw)
  }

  call(id: number | string, method: string, params?: unknown): Promise<Response> {
    const response = this.response(id)
    this.send(JSON.stringify(params === undefined ? { id, method } : { id, method, params }))
    return response
  }

  response(id: unknown): Promise<Response> {
    return new Promise((resolve) => this.waiters.set(id, resolve))
  }

  nextResponse(): Promise<Response> {
    const seen = this.responses.length
    return new Promise((resolve) => {
      const poll = () => (this.responses.length > seen ? resolve(this.responses[seen]!) : setTimeout(poll, 5))
      poll()
    })
  }

  event(test: (p: EventPush) => boolean): Promise<EventPush> {
    const seen = this.events.find(test)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => this.eventWaiters.push({ test, resolve }))
  }
}

/** Electron's MessagePortMain is an EventEmitter whose 'message' listener gets `{ data }`; this wraps a Node port so. */
function emitterPort(port: MessagePort): EventEmitter & EmitterPort & { started: boolean } {
  const emitter = new EventEmitter()
  const wrapped = Object.assign(emitter, {
    started: false,
    postMessage: (message: unknown) => port.postMessage(message),
    close: () => port.close(),
    start: () => {
      wrapped.started = true
    },
  })
  port.on('message', (data: unknown) => emitter.emit('message', { data }))
  port.on('close', () => emitter.emit('close'))
  return wrapped
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (condition() ? resolve() : setTimeout(poll, 5))
    poll()
  })
}

describe('the MessagePort carrier over a real core', () => {
  let alice: TempCore
  let dispatcher: Dispatcher
  let far: FarEnd
  let connection: PortConnection

  beforeAll(async () => {
    alice = await openTempCore('port-alice')
    dispatcher = createDispatcher(alice.core)
    const { port1, port2 } = new MessageChannel()
    connection = servePort(dispatcher, port1)
    far = new FarEnd(port2)
  })
  afterAll(async () => {
    connection.close()
    await alice.dispose()
  })

  it('round-trips a call', async () => {
    const response = await far.call(1, 'identity.whoami')
    expect(response).toMatchObject({ id: 1, ok: true, result: { displayName: 'port-alice', account: alice.identity.account } })
  })

  it('maps errors to stable codes and echoes string ids', async () => {
    expect(await far.call('a', 'nope.nothing')).toMatchObject({ id: 'a', ok: false, error: { code: 'INVALID_INPUT' } })
    expect(await far.call(2, 'conversations.get', { conversationId: '0'.repeat(32) })).toMatchObject({
      id: 2,
      ok: false,
      error: { code: 'NOT_FOUND' },
    })
    expect(await far.call(3, 'conversations.get', { conversationId: 'not-hex' })).toMatchObject({
      id: 3,
      ok: false,
      error: { code: 'INVALID_INPUT' },
    })
  })

  it('refuses structured-clone objects and malformed JSON without dying', async () => {
    let next = far.nextResponse()
    far.send({ id: 4, method: 'identity.whoami' })
    expect(await next).toMatchObject({ id: null, ok: false, error: { code: 'INVALID_INPUT', message: 'requests are JSON text' } })
    next = far.nextResponse()
    far.send('{"id": 5, "method"')
    expect(await next).toMatchObject({ id: null, ok: false, error: { code: 'INVALID_INPUT' } })
    expect(await far.call(6, 'identity.whoami')).toMatchObject({ id: 6, ok: true })
  })

  it('forwards core events', async () => {
    const created = await far.call(7, 'conversations.create', { kind: 'group', name: 'Family' })
    expect(created.ok).toBe(true)
    const id = (created as { result: { id: string } }).result.id
    const sent = await far.call(8, 'messages.send', { conversationId: id, body: 'hello over a port' })
    expect(sent.ok).toBe(true)
    const added = await far.event((p) => p.event === 'message.added' && p.payload.message.body === 'hello over a port')
    expect(added).toMatchObject({ event: 'message.added', payload: { conversation: id, message: { mine: true } } })
    await far.event((p) => p.event === 'conversation.updated' && p.payload.conversation.id === id)
  })

  it('refuses a request over the size cap without parsing it, echoing a leading id', async () => {
    const padding = 'x'.repeat(MAX_API_MESSAGE_BYTES)
    const tooBig = far.response(9)
    far.send(`{"id":9,"method":"messages.send","params":{"body":"${padding}"}}`)
    expect(await tooBig).toMatchObject({ id: 9, ok: false, error: { code: 'TOO_LARGE' } })
    // Counted in UTF-8 bytes, not UTF-16 units: 400k euro signs are 1.2 MB.
    const wide = far.response('w')
    far.send(`{"id":"w","method":"messages.send","params":{"body":"${'€'.repeat(400_000)}"}}`)
    expect(await wide).toMatchObject({ id: 'w', ok: false, error: { code: 'TOO_LARGE' } })
    // A request that names its id last is answered by id too.
    const tail = far.response('tail')
    far.send(`{"method":"messages.send","params":{"body":"${padding}"},"id":"tail"}`)
    expect(await tail).toMatchObject({ id: 'tail', ok: false, error: { code: 'TOO_LARGE' } })
    // Just under the cap is parsed (and refused by the contract's own bound, not by the carrier).
    const under = await far.call(10, 'messages.send', { conversationId: '0'.repeat(32), body: 'y'.repeat(MAX_API_MESSAGE_BYTES - 200) })
    expect(under).toMatchObject({ id: 10, ok: false, error: { code: 'INVALID_INPUT' } })
    // None of it closed the port: the next request is served.
    expect(await far.call(13, 'identity.whoami')).toMatchObject({ id: 13, ok: true })
    expect(far.closed).toBe(false)
  })
})

describe('the MessagePort carrier limits and lifecycle', () => {
  let alice: TempCore
  beforeAll(async () => {
    alice = await openTempCore('port-limits')
  })
  afterAll(async () => {
    await alice.dispose()
  })

  it('bounds the requests in flight on one port', async () => {
    const real = createDispatcher(alice.core)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const gated: Dispatcher = { handle: async (raw) => (await gate, real.handle(raw)), subscribe: real.subscribe }
    const { port1, port2 } = new MessageChannel()
    const connection = servePort(gated, port1, { maxInFlight: 4 })
    const far = new FarEnd(port2)
    const calls = Array.from({ length: 6 }, (_, i) => far.call(i, 'identity.whoami'))
    await until(() => far.responses.length === 2)
    expect(far.responses.map((r) => [r.id, r.ok ? 'ok' : r.error.code])).toEqual([
      [4, 'RATE_LIMITED'],
      [5, 'RATE_LIMITED'],
    ])
    release()
    const all = await Promise.all(calls)
    expect(all.filter((r) => r.ok)).toHaveLength(4)
    // Finished requests free their slots.
    expect(await far.call(99, 'identity.whoami')).toMatchObject({ ok: true })
    connection.close()
  })

  it('uses the WebSocket carrier limits by default', async () => {
    const real = createDispatcher(alice.core)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const gated: Dispatcher = { handle: async (raw) => (await gate, real.handle(raw)), subscribe: real.subscribe }
    const { port1, port2 } = new MessageChannel()
    const connection = servePort(gated, port1)
    const far = new FarEnd(port2)
    const calls = Array.from({ length: DEFAULT_MAX_IN_FLIGHT + 1 }, (_, i) => far.call(i, 'identity.whoami'))
    await until(() => far.responses.length === 1)
    expect(far.responses[0]).toMatchObject({ id: DEFAULT_MAX_IN_FLIGHT, ok: false, error: { code: 'RATE_LIMITED' } })
    release()
    await Promise.all(calls)
    connection.close()
  })

  it('works with an Electron-style emitter port and stops everything on close', async () => {
    let subscribers = 0
    let emit: (push: EventPush) => void = () => {}
    const real = createDispatcher(alice.core)
    const counting: Dispatcher = {
      handle: real.handle,
      subscribe(listener) {
        subscribers++
        emit = listener
        return () => {
          subscribers--
          emit = () => {}
        }
      },
    }
    const { port1, port2 } = new MessageChannel()
    const port = emitterPort(port1)
    const connection = servePort(counting, port)
    expect(port.started).toBe(true)
    expect(subscribers).toBe(1)
    const far = new FarEnd(port2)
    expect(await far.call(1, 'identity.whoami')).toMatchObject({ ok: true })
    emit({ event: 'security.rejected', payload: { reason: 'test', peer: null } })
    await far.event((p) => p.event === 'security.rejected')

    connection.close()
    await connection.closed
    expect(subscribers).toBe(0)
    expect(port.listenerCount('message')).toBe(0)
    await until(() => far.closed)
    connection.close() // idempotent
  })

  it('cleans up when the other side closes the port', async () => {
    let subscribers = 0
    const real = createDispatcher(alice.core)
    const counting: Dispatcher = {
      handle: real.handle,
      subscribe(listener) {
        subscribers++
        const off = real.subscribe(listener)
        return () => {
          subscribers--
          off()
        }
      },
    }
    const { port1, port2 } = new MessageChannel()
    const connection = servePort(counting, port1)
    expect(subscribers).toBe(1)
    port2.close()
    await connection.closed
    expect(subscribers).toBe(0)
  })
})
