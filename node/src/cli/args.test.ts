import { describe, expect, it } from 'vitest'
import { isHearthError } from '../../common/errors.js'
import type { ConversationSummary, MemberView } from '../api/types.js'
import { UsageError, parseDuration, parseLimit, resolveConversation, resolveMember } from './args.js'

function conversation(id: string, name: string): ConversationSummary {
  return { id, name, kind: 'group', createdAt: 0, lastActivity: 0, lastMessage: null, unread: 0, memberCount: 1, role: 'admin', removed: false }
}

function member(account: string, displayName: string): MemberView {
  return { account, displayName, role: 'member', devices: [], me: false }
}

describe('parseDuration', () => {
  it('reads a number and a unit, or never', () => {
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('30m')).toBe(1_800_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration(' 7D ')).toBe(7 * 86_400_000)
    expect(parseDuration('2w')).toBe(14 * 86_400_000)
    expect(parseDuration('never')).toBe(0)
  })

  it.each(['', 'soon', '1', 'h', '1.5h', '-1h', '0h', '1y', '99999999d'])('refuses %j as a usage error', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError)
  })
})

describe('parseLimit', () => {
  it('accepts 1..500 only', () => {
    expect(parseLimit('20')).toBe(20)
    for (const bad of ['0', '501', '2.5', 'ten', '']) expect(() => parseLimit(bad)).toThrow(UsageError)
  })
})

describe('resolveConversation', () => {
  const list = [
    conversation('aaaa1111' + '0'.repeat(24), 'Family'),
    conversation('aaaa2222' + '0'.repeat(24), 'family'),
    conversation('bbbb3333' + '0'.repeat(24), 'Work'),
  ]

  it('takes a full id, a unique prefix of 4+ characters, or a name', () => {
    expect(resolveConversation(list, list[2]!.id).name).toBe('Work')
    expect(resolveConversation(list, 'bbbb').name).toBe('Work')
    expect(resolveConversation(list, 'aaaa2').name).toBe('family')
    expect(resolveConversation(list, 'Family').id).toBe(list[0]!.id)
    expect(resolveConversation(list, 'work').name).toBe('Work')
  })

  it('refuses ambiguous, too short and unknown references', () => {
    expect(() => resolveConversation(list, 'aaaa')).toThrow(/several conversations/)
    expect(() => resolveConversation(list, 'FAMILY')).toThrow(/several conversations/)
    expect(() => resolveConversation(list, 'bbb')).toThrow(/no conversation matches/) // prefixes need 4+ characters
    expect(() => resolveConversation(list, 'Home')).toSatisfy((fn: () => unknown) => {
      try {
        fn()
        return false
      } catch (err) {
        return isHearthError(err, 'NOT_FOUND')
      }
    })
  })
})

describe('resolveMember', () => {
  const members = [member('ab'.repeat(32), 'bob'), member('ac'.repeat(32), 'carol')]

  it('takes an account, a prefix of 8+ hex (fingerprint spaces allowed) or a display name', () => {
    expect(resolveMember(members, 'ab'.repeat(32)).displayName).toBe('bob')
    expect(resolveMember(members, 'acac acac').displayName).toBe('carol')
    expect(resolveMember(members, 'bob').account).toBe('ab'.repeat(32))
  })

  it('refuses unknown members', () => {
    expect(() => resolveMember(members, 'dave')).toThrow(/no member matches/)
    expect(() => resolveMember(members, 'abab')).toThrow(/no member matches/)
  })
})
