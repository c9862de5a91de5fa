import { describe, expect, it } from 'vitest'
import { entropyFromPhrase, generateRecoveryPhrase } from '../../../node/common/crypto/recovery.js'
import { HearthError, type ErrorCode } from '../../../node/common/errors.js'
import { validateRelayAddresses } from '../../../node/src/core/settings/settings.js'
import { validateDisplayName } from '../../../node/src/identity/identity.js'
import { parseLinkCode } from '../../../node/src/identity/link-code.js'
import { PairMessages } from '../../../node/src/core/devices/pair-protocol.js'
import { describeError, errorText, linkFailureText } from './error-text.js'

/** The error a real core function throws, so a change of its words breaks this test instead of the mapping. */
function thrownBy(run: () => unknown): unknown {
  try {
    run()
  } catch (err) {
    return err
  }
  throw new Error('expected it to throw')
}

/** An error as it crosses the API: a plain object with code and message. */
const wire = (code: ErrorCode, message: string) => ({ code, message })

describe('describeError', () => {
  it('says a bad relay address in plain words, with an example and what to do, on the relay field', () => {
    for (const typed of ['relay.example.org', '/dns4/relay.example.org/tcp/443/wss']) {
      const said = describeError(thrownBy(() => validateRelayAddresses([typed])))
      expect(said.field).toBe('relay')
      expect(said.text).not.toMatch(/multiaddr|PeerId>/)
      expect(said.text).toMatch(/copy/i)
    }
    expect(describeError(thrownBy(() => validateRelayAddresses(['relay.example.org']))).text).toMatch(/^That is not a relay address/)
    expect(describeError(thrownBy(() => validateRelayAddresses(['/dns4/relay.example.org/tcp/443/wss']))).text).toMatch(/relay’s id at the end/)
    const tooMany = describeError(thrownBy(() => validateRelayAddresses(Array.from({ length: 40 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1/p2p/x`))))
    expect(tooMany).toEqual({ text: 'You can use at most 32 relays. Remove one before adding another.', field: 'relay' })
  })

  it('puts a recovery phrase problem on the phrase field, saying which word', () => {
    const words = generateRecoveryPhrase().phrase.split(' ')
    const misspelt = describeError(thrownBy(() => entropyFromPhrase([...words.slice(0, 23), 'zzzz'].join(' '))))
    expect(misspelt).toEqual({ text: '“zzzz” is not one of the recovery phrase words. Check its spelling against your written copy.', field: 'recoveryPhrase' })
    const short = describeError(thrownBy(() => entropyFromPhrase(words.slice(0, 20).join(' '))))
    expect(short.text).toBe('A recovery phrase has 24 words; this one has 20. Check that none is missing or doubled.')
    const swapped = describeError(thrownBy(() => entropyFromPhrase([words[1], words[0], ...words.slice(2)].join(' '))))
    // Two swapped words may still make a valid checksum by chance; when they do not, the words say so.
    if (swapped.field !== null) expect(swapped.text).toMatch(/wrong or out of order/)
  })

  it('puts a display name problem on the name field', () => {
    expect(describeError(thrownBy(() => validateDisplayName('x'.repeat(65))))).toEqual({ text: 'A name needs 1 to 64 characters.', field: 'displayName' })
    expect(describeError(thrownBy(() => validateDisplayName('Bob\u202e')))).toMatchObject({ field: 'displayName' })
    expect(describeError(wire('INVALID_INPUT', 'invalid parameters for settings.update: displayName: Too big')).field).toBe('displayName')
  })

  it('says what to do about an invite that cannot be used, on the invite field', () => {
    for (const code of ['INVITE_INVALID', 'INVITE_EXPIRED', 'INVITE_REVOKED', 'INVITE_USED'] as const) {
      const said = describeError(new HearthError(code, 'whatever the core said'))
      expect(said.field).toBe('invite')
      expect(said.text).toMatch(/\.$/)
    }
    expect(describeError(wire('INVALID_INPUT', 'already in that conversation'))).toEqual({ text: 'You are already in this conversation: it is in your list.', field: 'invite' })
  })

  it('turns log lines into sentences for a person', () => {
    expect(errorText(wire('INVALID_INPUT', 'they are already a member'))).toBe('They are already in this conversation.')
    expect(errorText(wire('INVALID_INPUT', 'already a member'))).toBe('They are already in this conversation.')
    expect(errorText(wire('INVALID_INPUT', 'a conversation needs an admin: make someone else admin first'))).toMatch(/^A conversation always needs an admin/)
    expect(errorText(wire('NOT_AN_ADMIN', 'only admins can do that'))).toBe('Only an admin of this conversation can do that. Ask one of its admins.')
    expect(errorText(wire('UNAUTHORIZED', 'you can only edit your own messages'))).toBe('You can only edit your own messages.')
    expect(errorText(wire('TIMEOUT', '/hearth/join/1 exchange took too long'))).not.toMatch(/hearth\/join/)
    expect(describeError(wire('INVALID_INPUT', 'conversation name must be 1 to 100 characters')).field).toBe('conversationName')
    expect(describeError(wire('TOO_LARGE', 'message is 70000 characters; the limit is 65536')).field).toBe('message')
  })

  it('keeps what the core already writes for people, and hides internals behind what to do', () => {
    const forPeople = 'No one who can let you in is reachable right now: ask the person who invited you to open Hearth, then try again.'
    expect(errorText(wire('UNREACHABLE', forPeople))).toBe(forPeople)
    expect(errorText(wire('PROTOCOL_ERROR', 'The device at this address answered for another device.'))).toBe('The device at this address answered for another device.')
    expect(errorText(wire('INTERNAL', 'migration 7 (x) failed: boom'))).toBe('Something went wrong inside Hearth. Try again; if it keeps happening, restart Hearth.')
    expect(errorText(wire('WRONG_PASSPHRASE', 'wrong passphrase'))).toBe('That passphrase is not right.')
    expect(describeError(wire('WRONG_PASSPHRASE', 'wrong passphrase')).field).toBe('passphrase')
    expect(errorText(new Error('socket hang up'))).toBe('Something went wrong inside Hearth. Try again; if it keeps happening, restart Hearth.')
  })
})

describe('linking a device, in words', () => {
  it('says what is wrong with a typed code under the code field', () => {
    const typo = describeError(thrownBy(() => parseLinkCode('K7Q2 9XHM')))
    expect(typo).toEqual({ text: 'This link code is missing the part after @ (where to find the new device).', field: 'linkCode' })
    expect(describeError(new HearthError('LINK_INVALID', PairMessages.wrong)).text).toMatch(/^That code is wrong or has expired\. Check it/)
    expect(describeError(new HearthError('LINK_INVALID', PairMessages.burnt)).text).toMatch(/tried wrongly too many times/)
    expect(describeError(new HearthError('LINK_EXPIRED', PairMessages.expired))).toEqual({ text: 'This link code has expired. Show a new one on the new device.', field: 'linkCode' })
    expect(errorText(new HearthError('LINK_CANCELLED', PairMessages.otherCancelled))).toBe('The other device cancelled. Nothing was shared.')
  })

  it('turns the pairing messages an event carries into sentences with what to do', () => {
    expect(linkFailureText(PairMessages.expired)).toBe('The link code has expired: show a new one.')
    expect(linkFailureText(PairMessages.gone)).toBe('The other device went away before linking finished. Try again.')
    expect(linkFailureText(PairMessages.confused)).toBe('The other device sent something unexpected: try again.')
    expect(linkFailureText(undefined)).toBe('Linking did not finish. Try again.')
  })
})
