import { describe, expect, it } from 'vitest'
import { decodeInvite, encodeInvite, INVITE_PREFIX } from '../../node/src/conversation/invite-code.js'
import type { ConversationId, OpHash } from '../../node/src/ids.js'
import { Limits } from '../../node/common/wire/limits.js'
import { formatShortInvite, parseShortInvite, secretFromBytes, SHORT_INVITE_PREFIX } from '../../node/src/conversation/short-invite.js'
import { deepLinkFromArgv, JOIN_PREFIX, parseDeepLink, SHORT_JOIN_PREFIX } from './deep-link.js'

const invite = encodeInvite({
  conversation: 'ab'.repeat(16) as ConversationId,
  root: 'cd'.repeat(32) as OpHash,
  name: 'Family',
  inviteId: 'ef'.repeat(16),
  secret: new Uint8Array(32).fill(7),
  expiresAt: 1_900_000_000_000,
  addresses: ['/ip4/192.168.1.20/tcp/4001/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'],
  peerId: '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq',
  relays: [],
})

describe('hearth:// deep links', () => {
  it('uses the core’s own invite prefixes', () => {
    expect(JOIN_PREFIX).toBe(INVITE_PREFIX)
    expect(SHORT_JOIN_PREFIX).toBe(SHORT_INVITE_PREFIX)
  })

  it('accepts a short invite link as the core reads it, and nothing around it', () => {
    const short = formatShortInvite({ secret: secretFromBytes(new Uint8Array(12).fill(0x5a)), locator: new Uint8Array([4, 192, 168, 1, 20, 6, 15, 161]) })
    const link = parseDeepLink(`  ${short.toUpperCase().replace('HEARTH://J/', 'hearth://j/')}/ `)
    expect(link?.url.toUpperCase()).toBe(short.toUpperCase())
    expect(parseShortInvite(link!.url)).toEqual(parseShortInvite(short))
    const code = short.slice(SHORT_INVITE_PREFIX.length)
    for (const junk of [`hearth://j/${code}?x=1`, `hearth://j/${code}#f`, `hearth://j/${code}/extra`, `hearth://j/${code.replace('@', '')}`, `hearth://j/${code}@x`, `hearth://j/ ${code}`, `hearth://j/${code.slice(0, 10)}@AB`]) {
      expect(parseDeepLink(junk), junk).toBeNull()
    }
  })

  it('accepts a real invite link and hands back one the core decodes', () => {
    const link = parseDeepLink(invite)
    expect(link).toEqual({ kind: 'join', url: invite })
    expect(decodeInvite(link!.url).name).toBe('Family')
  })

  it('tolerates what launchers add: surrounding space, a trailing slash, an upper-case scheme', () => {
    const code = invite.slice(INVITE_PREFIX.length)
    expect(parseDeepLink(`  ${invite}\n`)?.url).toBe(invite)
    expect(parseDeepLink(`${invite}/`)?.url).toBe(invite)
    expect(parseDeepLink(`HEARTH://JOIN/${code}`)?.url).toBe(invite)
  })

  it('rejects junk', () => {
    const code = invite.slice(INVITE_PREFIX.length)
    const junk: unknown[] = [
      undefined,
      null,
      42,
      { url: invite },
      '',
      'hearth://',
      'hearth://join/',
      'hearth://join/short',
      `https://join/${code}`,
      `hearth://evil/${code}`,
      `hearth://join.evil/${code}`,
      `hearth://user@join/${code}`,
      `hearth:join/${code}`,
      `hearth:///join/${code}`,
      `hearth://join/${code}?redirect=https://evil.example`,
      `hearth://join/${code}#fragment`,
      `hearth://join/${code}/extra`,
      `hearth://join/${code.slice(0, 40)}%2F${code.slice(40)}`,
      `hearth://join/${code.slice(0, 40)} ${code.slice(40)}`,
      `hearth://join/${code.slice(0, 40)}\n--inspect`,
      `hearth://join/${code.slice(0, 40)}\u200b${code.slice(40)}`,
      `hearth://join/${code.replace(/A/g, 'А')}`, // Cyrillic А
      `hearth://join/${'A'.repeat(Limits.maxInviteChars)}`,
      `javascript:alert(1)//hearth://join/${code}`,
    ]
    for (const value of junk) expect(parseDeepLink(value), JSON.stringify(value)).toBeNull()
  })

  it('finds the link in a command line and nothing else', () => {
    const chromium = ['/opt/Hearth/hearth', '--no-sandbox', '--allow-file-access-from-files', '.']
    expect(deepLinkFromArgv([...chromium, invite])?.url).toBe(invite)
    expect(deepLinkFromArgv(chromium)).toBeNull()
    // A flag that merely contains a link is not a link.
    expect(deepLinkFromArgv([...chromium, `--open=${invite}`])).toBeNull()
    expect(deepLinkFromArgv([...chromium, 'hearth://evil/x', invite])?.url).toBe(invite)
  })
})
