import { describe, expect, it, vi } from 'vitest'
import { HearthError, isHearthError } from '../../../node/common/errors.js'
import { MAX_API_MESSAGE_BYTES } from '../../../node/src/api/protocol.js'
import { createApi, requestBytes } from './client.js'
import { connect } from './connect.js'
import { exchangeLaunchCode, launchEndpoint, takeLaunchParameters, type TokenEnvironment } from './launch-token.js'
import { bridgeTransport, sameOriginSocketUrl, toHearthError, type HearthBridge } from './transport.js'

const TOKEN = 'A'.repeat(43)
const CODE = 'c'.repeat(43)

function environment(hash: string, stored: Record<string, string> = {}) {
  const storage = new Map(Object.entries(stored))
  const replaced: string[] = []
  const env: TokenEnvironment = {
    location: { hash, pathname: '/', search: '' },
    history: { replaceState: (_d, _u, url) => replaced.push(url ?? '') },
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) },
  }
  return { env, storage, replaced }
}

describe('the launch code', () => {
  it('is taken from the fragment once and removed from the address bar; a token is never read from a URL', () => {
    const first = environment(`#launch=${CODE}`)
    expect(takeLaunchParameters(first.env)).toEqual({ code: CODE, token: null, api: null })
    expect(first.replaced).toEqual(['/'])
    // An old-style address with a token in it is cleared and ignored.
    const old = environment(`#token=${TOKEN}`)
    expect(takeLaunchParameters(old.env)).toEqual({ code: null, token: null, api: null })
    expect(old.replaced).toEqual(['/'])
    // Reload: no fragment any more, the tab's storage has the token it got for the code.
    const reload = environment('', { 'hearth.apiToken': TOKEN })
    expect(takeLaunchParameters(reload.env)).toEqual({ code: null, token: TOKEN, api: null })
    expect(reload.replaced).toEqual([])
  })

  it('refuses a malformed code but still clears the fragment', () => {
    const bad = environment('#launch=<script>')
    expect(takeLaunchParameters(bad.env).code).toBeNull()
    expect(bad.replaced).toEqual(['/'])
    expect(takeLaunchParameters(environment('').env).code).toBeNull()
  })

  it('keeps a dev server API address only when it is a loopback WebSocket', () => {
    const dev = environment(`#launch=${CODE}&api=${encodeURIComponent('ws://127.0.0.1:4000')}`)
    expect(takeLaunchParameters(dev.env).api).toBe('ws://127.0.0.1:4000')
    expect(launchEndpoint('ws://127.0.0.1:4000')).toBe('http://127.0.0.1:4000/launch')
    const evil = environment(`#launch=${CODE}&api=${encodeURIComponent('ws://evil.example:80')}`)
    expect(takeLaunchParameters(evil.env).api).toBeNull()
  })

  it('derives the socket URL from the page origin', () => {
    expect(sameOriginSocketUrl({ protocol: 'http:', host: '127.0.0.1:5000' })).toBe('ws://127.0.0.1:5000/')
  })

  function answering(...answers: Array<{ status: number; body: unknown; retryAfter?: string }>) {
    const requests: Array<{ url: string; body: string }> = []
    const fetchFn = vi.fn(async (url: string, init: { body: string }) => {
      requests.push({ url, body: init.body })
      const a = answers.shift()!
      return { status: a.status, json: async () => a.body, headers: { get: (n: string) => (n === 'retry-after' ? (a.retryAfter ?? null) : null) } }
    })
    return { fetchFn, requests }
  }

  it('is traded for the token with one POST; a used, expired or wrong code says how to get a new link', async () => {
    const ok = answering({ status: 200, body: { token: TOKEN } })
    expect(await exchangeLaunchCode('http://127.0.0.1:1/launch', CODE, ok.fetchFn)).toBe(TOKEN)
    expect(ok.requests).toEqual([{ url: 'http://127.0.0.1:1/launch', body: JSON.stringify({ code: CODE }) }])
    for (const [status, error, text] of [
      [410, 'used', 'already used'],
      [410, 'expired', 'expired'],
      [403, 'invalid', 'not valid'],
    ] as const) {
      const refused = answering({ status, body: { error } })
      await expect(exchangeLaunchCode('http://127.0.0.1:1/launch', CODE, refused.fetchFn)).rejects.toSatisfy(
        (err) => isHearthError(err, 'UNAUTHORIZED') && err.message.includes(text) && err.message.includes('npm start'),
      )
    }
    const junk = answering({ status: 200, body: { token: '<script>' } })
    await expect(exchangeLaunchCode('http://127.0.0.1:1/launch', CODE, junk.fetchFn)).rejects.toSatisfy((err) => isHearthError(err, 'UNAUTHORIZED'))
  })

  it('waits and tries again when rate-limited', async () => {
    const slept: number[] = []
    const limited = answering({ status: 429, body: { error: 'rate-limited' }, retryAfter: '2' }, { status: 200, body: { token: TOKEN } })
    expect(await exchangeLaunchCode('http://127.0.0.1:1/launch', CODE, limited.fetchFn, async (ms) => void slept.push(ms))).toBe(TOKEN)
    expect(slept).toEqual([2000])
  })
})

describe('toHearthError', () => {
  it('keeps the stable code from whatever a carrier rejects with', () => {
    expect(toHearthError(new HearthError('NOT_FOUND', 'x')).code).toBe('NOT_FOUND')
    expect(toHearthError({ code: 'WRONG_PASSPHRASE', message: 'wrong passphrase' })).toMatchObject({ code: 'WRONG_PASSPHRASE', message: 'wrong passphrase' })
    // Electron's contextBridge keeps only an Error's message.
    expect(toHearthError(new Error('TOO_LARGE: message is too big'))).toMatchObject({ code: 'TOO_LARGE', message: 'message is too big' })
    expect(toHearthError({ code: 'MADE_UP', message: 'm' }).code).toBe('INTERNAL')
    expect(toHearthError('oops')).toMatchObject({ code: 'INTERNAL', message: 'oops' })
    expect(toHearthError(undefined).code).toBe('INTERNAL')
  })
})

describe('the Electron bridge transport', () => {
  function bridge(): HearthBridge & { fire(event: string, payload: unknown): void; closeAll(reason: string): void } {
    const listeners = new Map<string, Set<(p: unknown) => void>>()
    const closers = new Set<(r: string) => void>()
    return {
      call: vi.fn(async (method: string, params: unknown) => {
        if (method === 'conversations.get') throw { code: 'NOT_FOUND', message: 'no such conversation' }
        return { method, params }
      }),
      on(event, listener) {
        const set = listeners.get(event) ?? new Set()
        listeners.set(event, set)
        set.add(listener)
        return () => set.delete(listener)
      },
      onClose(listener) {
        closers.add(listener)
        return () => closers.delete(listener)
      },
      fire(event, payload) {
        for (const l of listeners.get(event) ?? []) l(payload)
      },
      closeAll(reason) {
        for (const l of closers) l(reason)
      },
    }
  }

  it('passes calls and events through and turns rejections into HearthErrors', async () => {
    const b = bridge()
    const api = createApi(bridgeTransport(b))
    expect(await api.call('conversations.list')).toEqual({ method: 'conversations.list', params: {} })
    await expect(api.call('conversations.get', { conversationId: '0'.repeat(32) })).rejects.toSatisfy((err) => isHearthError(err, 'NOT_FOUND'))
    const seen: unknown[] = []
    const off = api.on('peer.changed', (p) => seen.push(p))
    b.fire('peer.changed', { peers: [] })
    off()
    b.fire('peer.changed', { peers: [1] })
    expect(seen).toEqual([{ peers: [] }])
    const closed: string[] = []
    api.onClose((r) => closed.push(r))
    b.closeAll('core restarted')
    expect(closed).toEqual(['core restarted'])
  })

  it('is what connect() picks when the preload exposed window.hearth', async () => {
    const b = bridge()
    const win = { hearth: b } as unknown as Window
    const connection = await connect(win, false)
    expect(connection.kind).toBe('bridge')
    expect(await connection.api.call('identity.whoami')).toEqual({ method: 'identity.whoami', params: {} })
  })

  it('without a bridge and without a token or code, connect() says how to open the app', async () => {
    const { env } = environment('')
    const win = { location: { ...env.location, protocol: 'http:', host: '127.0.0.1:1' }, history: env.history, sessionStorage: env.storage } as unknown as Window
    await expect(connect(win, false)).rejects.toSatisfy((err) => isHearthError(err, 'UNAUTHORIZED') && err.message.includes('npm start'))
  })
})

describe('the typed Api over any carrier', () => {
  it('never sends a request it knows is over the carriers’ cap: TOO_LARGE at once, and the carrier stays in use', async () => {
    const call = vi.fn(async (method: string) => ({ method }))
    const transport = { call, on: () => () => {}, onClose: () => () => {}, close: () => {} }
    const api = createApi(transport)
    const conversationId = 'a'.repeat(32)
    await expect(api.call('messages.send', { conversationId, body: 'x'.repeat(MAX_API_MESSAGE_BYTES) })).rejects.toSatisfy((err) => isHearthError(err, 'TOO_LARGE'))
    // Counted in UTF-8: 400,000 euro signs are 1.2 MB.
    await expect(api.call('messages.send', { conversationId, body: '€'.repeat(400_000) })).rejects.toSatisfy((err) => isHearthError(err, 'TOO_LARGE'))
    expect(call).not.toHaveBeenCalled()
    await api.call('messages.send', { conversationId, body: 'x'.repeat(MAX_API_MESSAGE_BYTES - 200) })
    expect(call).toHaveBeenCalledTimes(1)
    expect(requestBytes('identity.whoami', {})).toBeLessThan(100)
  })
})
