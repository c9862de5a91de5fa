import { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { isHearthError } from '../../common/errors.js'
import type { Dispatcher } from './dispatcher.js'
import { createDispatcher } from './dispatcher.js'
import { handshake, openTempCore, type TempCore } from './testing.js'
import { connectApi, type ApiClient, type WebSocketFactory } from './ws-client.js'
import { MAX_API_FRAME_BYTES, MAX_API_MESSAGE_BYTES, startApiServer, type ApiServer } from './ws-server.js'

const wsFactory: WebSocketFactory = (url, protocols) => new WebSocket(url, protocols) as unknown as ReturnType<WebSocketFactory>

describe('the WebSocket carrier', () => {
  let alice: TempCore
  let server: ApiServer
  let client: ApiClient | undefined

  beforeAll(async () => {
    alice = await openTempCore('alice')
    server = await startApiServer(createDispatcher(alice.core), { port: 0 })
  })
  afterAll(async () => {
    client?.close()
    await server.close()
    await alice.dispose()
  })

  it('listens on loopback only', () => {
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`)
    expect(server.token.length).toBeGreaterThanOrEqual(32)
  })

  it('refuses a missing or wrong token with 401 before the upgrade', async () => {
    expect(await handshake(server.url)).toBe(401)
    expect(await handshake(server.url, { protocols: ['hearth.wrong-token-wrong-token'] })).toBe(401)
    expect(await handshake(`${server.url}/?token=nope`)).toBe(401)
    expect(await handshake(server.url, { protocols: [`hearth.${server.token}x`] })).toBe(401)
    await expect(connectApi(server.url, 'x'.repeat(43), { WebSocket: wsFactory })).rejects.toSatisfy(
      (err) => isHearthError(err, 'UNREACHABLE') && err.message.includes('401'),
    )
  })

  it('accepts the token as a subprotocol or a query parameter', async () => {
    expect(await handshake(server.url, { protocols: [`hearth.${server.token}`] })).toBe(101)
    expect(await handshake(`${server.url}/?token=${server.token}`)).toBe(101)
  })

  it('refuses a foreign Origin even with the right token, and allows its own', async () => {
    const protocols = [`hearth.${server.token}`]
    expect(await handshake(server.url, { protocols, origin: 'https://evil.example' })).toBe(403)
    expect(await handshake(server.url, { protocols, origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403)
    expect(await handshake(server.url, { protocols, origin: 'null' })).toBe(403)
    expect(await handshake(server.url, { protocols, origin: `http://127.0.0.1:${server.port}` })).toBe(101)
    expect(await handshake(server.url, { protocols, origin: `http://localhost:${server.port}` })).toBe(101)
  })

  it('round-trips calls, maps errors to HearthError, and pushes events', async () => {
    client = await connectApi(server.url, server.token, { WebSocket: wsFactory })
    const me = await client.call('identity.whoami')
    expect(me.displayName).toBe('alice')

    await expect(client.call('conversations.get', { conversationId: 'nothex' })).rejects.toSatisfy((err) =>
      isHearthError(err, 'INVALID_INPUT'),
    )
    await expect(client.call('conversations.get', { conversationId: 'a'.repeat(32) })).rejects.toSatisfy((err) =>
      isHearthError(err, 'NOT_FOUND'),
    )

    const group = await client.call('conversations.create', { kind: 'group', name: 'Family' })
    const added = new Promise<string>((resolve) => {
      client!.on('message.added', (payload) => resolve(payload.message.body))
    })
    const sent = await client.call('messages.send', { conversationId: group.id, body: 'over the socket' })
    expect(sent.body).toBe('over the socket')
    expect(await added).toBe('over the socket')
    const list = await client.call('conversations.list')
    expect(list.map((c) => c.name)).toContain('Family')
  })

  it('answers garbage with INVALID_INPUT and keeps the connection', async () => {
    const ws = new WebSocket(server.url, [`hearth.${server.token}`])
    await new Promise((resolve) => ws.once('open', resolve))
    const replies: unknown[] = []
    ws.on('message', (data) => replies.push(JSON.parse(String(data))))
    ws.send('{not json')
    ws.send(JSON.stringify({ id: 1, method: 'identity.whoami' }))
    await new Promise<void>((resolve) => {
      const check = () => (replies.length >= 2 ? resolve() : setTimeout(check, 10))
      check()
    })
    expect(replies[0]).toMatchObject({ id: null, ok: false, error: { code: 'INVALID_INPUT' } })
    expect(replies[1]).toMatchObject({ id: 1, ok: true })
    ws.close()
  })

  it('answers a request over the size cap with TOO_LARGE and keeps the connection', async () => {
    const ws = new WebSocket(server.url, [`hearth.${server.token}`])
    await new Promise((resolve) => ws.once('open', resolve))
    let closed: number | null = null
    ws.on('close', (code) => (closed = code))
    const replies: Array<{ id: unknown; ok: boolean; error?: { code: string } }> = []
    ws.on('message', (data) => replies.push(JSON.parse(String(data))))
    const until = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (replies.length >= n ? resolve() : setTimeout(check, 10))
        check()
      })
    const body = 'x'.repeat(MAX_API_MESSAGE_BYTES)
    // The id is echoed when the request names it first (as every client here writes it) or last.
    ws.send(`{"id":11,"method":"messages.send","params":{"conversationId":"${'a'.repeat(32)}","body":"${body}"}}`)
    ws.send(`{"method":"messages.send","params":{"body":"${body}"},"id":"tail"}`)
    ws.send(Buffer.alloc(MAX_API_MESSAGE_BYTES + 1), { binary: true })
    ws.send(JSON.stringify({ id: 12, method: 'identity.whoami' }))
    await until(4)
    expect(replies.slice(0, 3)).toMatchObject([
      { id: 11, ok: false, error: { code: 'TOO_LARGE' } },
      { id: 'tail', ok: false, error: { code: 'TOO_LARGE' } },
      { id: null, ok: false, error: { code: 'TOO_LARGE' } },
    ])
    expect(replies[3]).toMatchObject({ id: 12, ok: true })
    expect(closed).toBeNull()
    ws.close()
  })

  it('settles the pending call of a client that sends too much with TOO_LARGE, and the client stays usable', async () => {
    const own = await connectApi(server.url, server.token, { WebSocket: wsFactory })
    try {
      const group = await own.call('conversations.create', { kind: 'group', name: 'Pasted' })
      await expect(own.call('messages.send', { conversationId: group.id, body: 'y'.repeat(2 * MAX_API_MESSAGE_BYTES) })).rejects.toSatisfy((err) =>
        isHearthError(err, 'TOO_LARGE'),
      )
      expect(own.closed).toBe(false)
      expect((await own.call('messages.send', { conversationId: group.id, body: 'a normal message' })).body).toBe('a normal message')
    } finally {
      own.close()
    }
  })

  it('still closes a connection whose frame is over what it will hold (1009), and serves the next one', async () => {
    const ws = new WebSocket(server.url, [`hearth.${server.token}`])
    await new Promise((resolve) => ws.once('open', resolve))
    const closed = new Promise<number>((resolve) => ws.once('close', resolve))
    ws.on('error', () => {})
    ws.send(Buffer.alloc(MAX_API_FRAME_BYTES + 1, 0x20).toString())
    expect(await closed).toBe(1009)
    const again = await connectApi(server.url, server.token, { WebSocket: wsFactory })
    expect((await again.call('identity.whoami')).displayName).toBe('alice')
    again.close()
  })

  it('survives a client that resets the connection before its refusal is written', async () => {
    // A client that sends an upgrade request and resets at once makes writing the 401/403 fail with ECONNRESET when
    // the reset lands between the server reading the request and answering it. That window is a race between
    // processes, so the failure is injected here: the server's socket errors as it answers. The refusal path used to
    // leave that socket with no 'error' listener, which made it an uncaught exception.
    const end = Socket.prototype.end
    const spy = vi.spyOn(Socket.prototype, 'end').mockImplementation(function (this: Socket, ...args: unknown[]) {
      if (this.localPort === server.port) {
        process.nextTick(() => this.destroy(Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' })))
      }
      return (end as (...a: unknown[]) => Socket).apply(this, args)
    })
    try {
      expect(await handshake(server.url).catch(() => 'reset')).not.toBe(101)
      expect(await handshake(server.url, { protocols: [`hearth.${server.token}`], origin: 'https://evil.example' }).catch(() => 'reset')).not.toBe(101)
      // Let the injected errors fire before the spy goes.
      await new Promise((resolve) => setTimeout(resolve, 50))
    } finally {
      spy.mockRestore()
    }
    expect(await handshake(server.url, { protocols: [`hearth.${server.token}`] })).toBe(101)
  })
})

describe('the per-connection request cap', () => {
  it('answers requests beyond the cap with RATE_LIMITED at once', async () => {
    const releases: Array<() => void> = []
    const slow: Dispatcher = {
      handle: (raw) =>
        new Promise((resolve) => {
          releases.push(() => resolve({ id: (raw as { id: number }).id, ok: true, result: null }))
        }),
      subscribe: () => () => {},
    }
    const server = await startApiServer(slow, { maxInFlight: 2 })
    const client = await connectApi(server.url, server.token, { WebSocket: wsFactory })
    try {
      const calls = [1, 2, 3].map((i) => client.call('conversations.get', { conversationId: String(i).repeat(32) }))
      await expect(calls[2]).rejects.toSatisfy((err) => isHearthError(err, 'RATE_LIMITED'))
      for (const release of releases) release()
      await expect(Promise.all(calls.slice(0, 2))).resolves.toEqual([null, null])
    } finally {
      client.close()
      await server.close()
    }
  })

  it('refuses to bind anywhere but loopback, and refuses weak tokens', async () => {
    const noop: Dispatcher = { handle: async () => ({ id: null, ok: true, result: null }), subscribe: () => () => {} }
    await expect(startApiServer(noop, { host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(/127\.0\.0\.1/)
    await expect(startApiServer(noop, { token: 'short' })).rejects.toThrow(/token/)
  })
})
