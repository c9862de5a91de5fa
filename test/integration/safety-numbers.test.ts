import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { createDispatcher } from '../../node/src/api/dispatcher.js'
import { errorOf, resultOf } from '../../node/src/api/testing.js'
import type { SafetyNumberView } from '../../node/src/api/types.js'
import type { AccountId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'

/** Verifying a person (docs/adr/0031-safety-numbers.md) between two real cores that share a conversation. */
describe('safety numbers between two people', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  const acct = (c: TestCore) => c.identity.account as AccountId
  const memberOf = (c: TestCore, id: Parameters<TestCore['core']['members']>[0], who: TestCore) =>
    c.core.members(id).find((m) => m.account === who.identity.account)

  it('both compute the same 60 digits; a scan of the other’s code verifies, a wrong code is refused', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const family = await makeGroup(alice, [bob, carol])
    await waitFor(() => memberOf(bob, family, carol) !== undefined, { message: 'bob to see carol' })

    const fromAlice = alice.core.people.safetyNumber(acct(bob))
    const fromBob = bob.core.people.safetyNumber(acct(alice))
    expect(fromAlice.digits).toMatch(/^[0-9]{60}$/)
    expect(fromBob.digits).toBe(fromAlice.digits)
    expect(fromAlice.qr).not.toBe(fromBob.qr)
    expect(alice.core.people.safetyNumber(acct(carol)).digits).not.toBe(fromAlice.digits)
    expect(memberOf(alice, family, bob)?.verified).toBe(false)
    expect(memberOf(alice, family, alice)?.verified).toBeUndefined()

    // Through the API, as the UI and the CLI call it.
    const api = createDispatcher(alice.core)
    let n = 0
    const call = async (method: string, params: unknown) => api.handle({ id: ++n, method, params })

    // Carol's code (her number with bob) and alice's own code are not bob's: refused, nothing stored, counted.
    const carolsCode = carol.core.people.safetyNumber(acct(bob)).qr
    for (const wrong of [carolsCode, fromAlice.qr]) {
      expect(errorOf(await call('people.verify', { account: acct(bob), scanned: wrong }))).toMatchObject({ code: 'VERIFY_MISMATCH' })
    }
    const notACode = { code: 'MALFORMED', message: 'This is not a Hearth safety number code.' }
    expect(errorOf(await call('people.verify', { account: acct(bob), scanned: 'not base64!' }))).toEqual(notACode)
    // Base64 of something else (an invite's bytes, say): refused in the same words, not a schema message.
    expect(errorOf(await call('people.verify', { account: acct(bob), scanned: Buffer.from('hearth://j/abc').toString('base64') }))).toEqual(notACode)
    expect(alice.core.counters.snapshot()['verify-mismatch']).toBe(2)
    expect(memberOf(alice, family, bob)?.verified).toBe(false)

    const changed: boolean[] = []
    const off = alice.core.events.on('members.changed', ({ conversation, members }) => {
      if (conversation === family) changed.push(members.find((m) => m.account === bob.identity.account)?.verified === true)
    })
    resultOf(await call('people.verify', { account: acct(bob), scanned: fromBob.qr }))
    off()
    expect(changed).toEqual([true])
    expect(resultOf<SafetyNumberView>(await call('people.safetyNumber', { account: acct(bob) })).verified).toBe(true)
    expect(memberOf(alice, family, bob)).toMatchObject({ verified: true })
    expect(memberOf(alice, family, bob)?.verifiedKeyChanged).toBeUndefined()
    expect(memberOf(alice, family, carol)?.verified).toBe(false)
    // Only on alice's device: bob's view of alice is untouched.
    expect(memberOf(bob, family, alice)?.verified).toBe(false)

    // Bob compares the digits by eye instead of scanning.
    await bob.core.people.verify(acct(alice))
    expect(memberOf(bob, family, alice)?.verified).toBe(true)

    resultOf(await call('people.unverify', { account: acct(bob) }))
    expect(memberOf(alice, family, bob)?.verified).toBe(false)
  })

  it('is kept across a restart; refuses oneself and people this device has never met', async () => {
    let alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const family = await makeGroup(alice, [bob])
    await alice.core.people.verify(acct(bob), bob.core.people.safetyNumber(acct(alice)).qr)

    alice = await alice.restart()
    cores = [alice, bob]
    expect(memberOf(alice, family, bob)?.verified).toBe(true)
    expect(alice.core.people.safetyNumber(acct(bob)).verified).toBe(true)

    expect(() => alice.core.people.safetyNumber(acct(alice))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    const stranger = 'ab'.repeat(32) as AccountId
    expect(() => alice.core.people.safetyNumber(stranger)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }))
    await expect(alice.core.people.verify(stranger)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
