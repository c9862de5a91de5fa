import { describe, expect, it } from 'vitest'
import type { MessageView } from '../api/types.js'
import { sendState } from './commands/send.js'
import { expiryText, fingerprint, formatMessages, formatPeers, formatRecoveryPhrase, relativeTime, stateMark, table } from './format.js'

const NOW = new Date(2025, 5, 1, 12, 0, 0).getTime()

function message(partial: Partial<MessageView>): MessageView {
  return {
    id: '0'.repeat(32),
    conversation: '1'.repeat(32),
    author: 'a'.repeat(64),
    authorName: 'alice',
    device: 'd'.repeat(64),
    hlc: '',
    sentAt: NOW - 60_000,
    orderKey: 'k',
    body: 'hi',
    edited: false,
    deleted: false,
    reactions: {},
    mine: false,
    state: 'delivered',
    failure: null,
    ...partial,
  }
}

describe('format', () => {
  it('lists members\' devices first, then relays, then strangers, and how each relay answered', () => {
    const relay = { address: '/ip4/1.2.3.4/tcp/4001/p2p/12D3R', peerId: '12D3R', state: 'refused' as const, detail: 'quota exceeded', at: 0 }
    const text = formatPeers(
      [
        { peerId: '12D3S', displayName: null, addresses: [] },
        { peerId: '12D3R', displayName: null, addresses: [] },
        { peerId: '12D3B', displayName: 'bob', addresses: [] },
      ],
      [relay],
    )
    expect(text.split('\n')).toEqual([
      'Connected to 3 devices:',
      '  bob                          12D3B',
      '  relay                        12D3R',
      '  (not in your conversations)  12D3S',
      '',
      'Relays:',
      '  /ip4/1.2.3.4/tcp/4001/p2p/12D3R  refused: quota exceeded',
    ])
    expect(formatPeers([], [])).toBe('Not connected to any device.')
  })

  it('says where a sent message is: on a device, at a relay, only here, or refused', () => {
    expect(['pending', 'sent', 'delivered', 'read', 'failed'].map((state) => sendState(message({ state: state as MessageView['state'] })))).toEqual([
      'saved',
      'relayed',
      'delivered',
      'delivered',
      'failed',
    ])
  })

  it('aligns columns and leaves the last one unpadded', () => {
    expect(table(['A', 'LONG'], [['xx', 'y'], ['z', 'w']])).toBe('A   LONG\nxx  y\nz   w')
  })

  it('shows relative times and expiries', () => {
    expect(relativeTime(NOW - 10_000, NOW)).toBe('just now')
    expect(relativeTime(NOW - 5 * 60_000, NOW)).toBe('5m ago')
    expect(relativeTime(NOW - 3 * 3600_000, NOW)).toBe('3h ago')
    expect(relativeTime(NOW - 2 * 86_400_000, NOW)).toBe('2d ago')
    expect(relativeTime(NOW - 30 * 86_400_000, NOW)).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(expiryText(0, NOW)).toBe('never expires')
    expect(expiryText(NOW + 7 * 86_400_000 - 5, NOW)).toBe('expires in 7d')
    expect(expiryText(NOW - 1, NOW)).toBe('expired')
  })

  it('marks message states', () => {
    expect(stateMark('pending')).toBe('… pending')
    expect(stateMark('sent')).toBe('✓ sent')
    expect(stateMark('delivered')).toBe('✓✓ delivered')
    expect(stateMark('read')).toBe('✓✓ read')
    expect(stateMark('failed', 'too large')).toBe('✗ failed: too large')
  })

  it('prints messages with aligned authors, states on mine, and indented continuation lines', () => {
    const text = formatMessages(
      [message({ body: 'hello\nthere' }), message({ authorName: 'bo', mine: true, state: 'sent', body: 'yo' })],
      NOW,
    )
    expect(text).toBe('11:59  alice  hello\n              there\n11:59  bo     yo  ✓ sent')
  })

  it('groups a fingerprint and numbers the recovery phrase', () => {
    expect(fingerprint('0123456789abcdef0123456789')).toBe('0123 4567 89ab cdef 0123')
    const grid = formatRecoveryPhrase(Array.from({ length: 24 }, (_, i) => `w${i + 1}`).join(' '))
    expect(grid.split('\n')).toHaveLength(6)
    expect(grid).toContain('24. w24')
  })
})

describe('a message with files', () => {
  it('lists each file (photo or file, name, size, where it is) before the caption', () => {
    const m = message({
      body: 'the beach',
      attachments: [
        { index: 0, name: 'sunset.jpg', size: 3_200_000, mime: 'image/jpeg', kind: 'image', state: 'complete', received: 3_200_000 },
        { index: 1, name: 'plan.pdf', size: 40_000_000, mime: 'application/pdf', kind: 'file', state: 'available', received: 0 },
      ],
    })
    const text = formatMessages([m], m.sentAt)
    expect(text).toContain('[📷 sunset.jpg, 3.1 MB]')
    expect(text).toContain('[📎 plan.pdf, 38 MB: not downloaded (larger than the automatic download size)]')
    expect(text.indexOf('plan.pdf')).toBeLessThan(text.indexOf('the beach'))
    expect(formatMessages([message({ body: '', deleted: true, attachments: m.attachments ?? [] })], m.sentAt)).toContain('(deleted)')
  })
})
