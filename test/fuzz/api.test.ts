/**
 * Fuzzing the core API's message parsing: `parseRequest` (shared by every carrier) on any value and on JSON text as a
 * WebSocket would deliver it, then the dispatcher on a real core with requests that pass the contract's schemas, so
 * the core's own checks meet hostile but well-shaped parameters. A failure must be a typed error code, never
 * INTERNAL (which is how the dispatcher reports an exception that was not a HearthError).
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../node/common/errors.js'
import { contract, type Method } from '../../node/src/api/contract.js'
import { createDispatcher, parseRequest, type Dispatcher } from '../../node/src/api/dispatcher.js'
import { openTempCore, type TempCore } from '../../node/src/api/testing.js'
import { cborValue, fuzz, fuzzAsync, hostileText, LONG_RUN, mutateTree, runs, SHORT_RUNS, treeMutation, talliesReportedAfterEach } from './fuzz-kit.js'

const tally = talliesReportedAfterEach()

const HEX32 = '0a'.repeat(16)
const HEX64 = 'b1'.repeat(32)
/** A valid call of every method: the fuzzer mutates these. */
const valid: Record<Method, unknown> = {
  'identity.whoami': {},
  'conversations.list': {},
  'conversations.get': { conversationId: HEX32 },
  'conversations.create': { kind: 'group', name: 'Family' },
  'conversations.invite': { conversationId: HEX32, expiresInMs: 3_600_000, singleUse: true },
  'conversations.revokeInvite': { conversationId: HEX32, inviteId: HEX32 },
  'conversations.invites': { conversationId: HEX32 },
  'conversations.join': { code: 'hearth://join/oWF2AQ' },
  'conversations.members': { conversationId: HEX32 },
  'conversations.remove': { conversationId: HEX32, account: HEX64 },
  'conversations.removed': { conversationId: HEX32 },
  'conversations.addBack': { conversationId: HEX32, account: HEX64 },
  'conversations.setRole': { conversationId: HEX32, account: HEX64, role: 'admin' },
  'conversations.update': { conversationId: HEX32, name: 'Cousins', description: 'Sunday lunch' },
  'conversations.leave': { conversationId: HEX32 },
  'conversations.dismissJoin': { conversationId: HEX32 },
  'conversations.systemLines': { conversationId: HEX32 },
  'messages.send': { conversationId: HEX32, body: 'hello', replyTo: HEX32, mentions: [HEX64] },
  'messages.edit': { conversationId: HEX32, messageId: HEX32, body: 'hello!' },
  'messages.react': { conversationId: HEX32, messageId: HEX32, emoji: '👍' },
  'files.begin': { conversationId: HEX32, name: 'beach.jpg', size: 1000 },
  'files.append': { uploadId: HEX32, data: 'aGVsbG8=' },
  'files.abort': { uploadId: HEX32 },
  'files.read': { conversationId: HEX32, messageId: HEX32, index: 0, offset: 0, length: 1024 },
  'files.save': { conversationId: HEX32, messageId: HEX32, index: 0, path: '/tmp/x' },
  'files.info': { conversationId: HEX32, messageId: HEX32, index: 0 },
  'files.download': { conversationId: HEX32, messageId: HEX32, index: 0 },
  'files.cancel': { conversationId: HEX32, messageId: HEX32, index: 0 },
  'files.usage': {},
  'files.clear': { conversationId: HEX32 },
  'messages.delete': { conversationId: HEX32, messageId: HEX32, forEveryone: true },
  'messages.versions': { conversationId: HEX32, messageId: HEX32 },
  'messages.seenBy': { conversationId: HEX32, messageId: HEX32 },
  'messages.typing': { conversationId: HEX32 },
  'messages.page': { conversationId: HEX32, before: 'abc', limit: 50 },
  'messages.markRead': { conversationId: HEX32, upTo: 'abc' },
  'messages.retry': { conversationId: HEX32, messageId: HEX32 },
  'conversations.setPrefs': { conversationId: HEX32, mute: { level: 'mentions', forMs: 3_600_000 }, archived: true, pinned: true },
  'chats.requests': {},
  'chats.request': { peerId: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA' },
  'chats.accept': { requestId: HEX32 },
  'chats.decline': { requestId: HEX32 },
  'people.safetyNumber': { account: HEX64 },
  'people.verify': { account: HEX64, scanned: 'oWF2AQ==' },
  'people.unverify': { account: HEX64 },
  'devices.list': {},
  'devices.link': { code: 'hearth://link/K7Q29XHM4RTWPLZ3G8N2@0G2M0001TB4Y2A8' },
  'devices.confirmLink': { accept: false },
  'devices.revoke': { device: HEX64 },
  'devices.rename': { device: HEX64, name: 'Kitchen laptop' },
  'drafts.get': { conversationId: HEX32 },
  'drafts.set': { conversationId: HEX32, text: 'half a thought' },
  'network.peers': {},
  'network.status': {},
  'settings.get': {},
  'settings.update': { displayName: 'Alice', relays: [] },
  'app.status': {},
  'app.info': {},
  'app.create': { name: 'Alice', passphrase: 'correct horse' },
  'app.confirmRecovery': { words: ['abandon'] },
  'app.restore': { name: 'Alice', phrase: 'abandon abandon', passphrase: 'correct horse' },
  'app.unlock': { passphrase: 'x' },
  'app.linkStart': { name: 'Alice', passphrase: 'correct horse' },
  'app.linkConfirm': { accept: true },
  'app.linkCancel': {},
  'account.status': {},
  'account.recoveryPhrase': { passphrase: 'x' },
  'account.changePassphrase': { current: 'x', next: 'correct horse' },
}
const methods = Object.keys(valid) as Method[]

const request = fc
  .tuple(
    fc.oneof(fc.nat(), fc.string({ minLength: 1, maxLength: 64 }), cborValue),
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...methods) }, { weight: 1, arbitrary: hostileText(methods) }),
    fc.array(treeMutation, { maxLength: 3 }),
    fc.boolean(),
  )
  .map(([id, method, ms, withParams]) => {
    const params = mutateTree(valid[method as Method] ?? {}, ms)
    return withParams ? { id, method, params } : { id, method }
  })

const requestText = fc.oneof(
  request.map((r) => JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? [...v] : v))),
  hostileText(methods.map((m) => JSON.stringify({ id: 1, method: m, params: valid[m] }))),
)

function fromJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

describe('fuzz: the core API request parser', () => {
  it('parseRequest: valid params for a known method, or INVALID_INPUT; never an exception', () => {
    const t = tally('api parseRequest')
    const input = fc.oneof(fc.anything(), cborValue, request, requestText.map(fromJson))
    fuzz(
      fc.property(input, (raw) => {
        const parsed = parseRequest(raw)
        t.inputs++
        if (parsed.ok) {
          t.values++
          expect(contract[parsed.method].params.safeParse(parsed.params).success).toBe(true)
        } else {
          const error = (parsed.response as { error: { code: string } }).error
          t.refused(error.code)
          expect(error.code).toBe('INVALID_INPUT')
        }
      }),
      runs(4 * SHORT_RUNS),
    )
    expect(t.values).toBeGreaterThan(0)
  })
})

describe('fuzz: the dispatcher on a real core', () => {
  let alice: TempCore
  let api: Dispatcher
  beforeAll(async () => {
    alice = await openTempCore('fuzz-api')
    api = createDispatcher(alice.core)
  })
  afterAll(async () => {
    await alice.dispose()
  }, 60_000)

  it('answers every well-shaped hostile call with a result or a typed error, never INTERNAL', async () => {
    const t = tally('api dispatcher')
    // Only calls that pass the contract reach the core; the rest were covered above.
    const callable = request.filter((r) => parseRequest(r).ok)
    await fuzzAsync(
      fc.asyncProperty(callable, async (raw) => {
        const response = await api.handle(raw)
        t.inputs++
        if (response.ok) {
          t.values++
          return
        }
        t.refused(response.error.code)
        expect(ErrorCodes).toContain(response.error.code)
        expect(response.error.code, `${JSON.stringify(raw).slice(0, 300)} → ${response.error.message}`).not.toBe('INTERNAL')
      }),
      // Each call is a real core call (some write to LevelDB); the long run's timeout (vitest.config.ts) allows for it.
      LONG_RUN ? runs(0) : SHORT_RUNS / 3,
    )
    // And the core still answers an honest call.
    const whoami = await api.handle({ id: 1, method: 'identity.whoami' })
    expect(whoami.ok).toBe(true)
  })
})
