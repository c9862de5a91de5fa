import { describe, expect, it } from 'vitest'
import type { AccountId, ConversationId, DeviceId, MessageId } from '../../ids.js'
import { FileReceipts, type KnownDevice } from './file-receipts.js'

const CONV = 'ab'.repeat(16) as ConversationId
const OTHER = 'cd'.repeat(16) as ConversationId
const BLOB = 'ee'.repeat(32)
const ME = '00'.repeat(32) as DeviceId

function device(name: string, n: number): KnownDevice {
  return { device: String(n).padStart(2, '0').repeat(32) as DeviceId, account: name.padEnd(64, '0') as AccountId, peerId: `peer-${name}`, displayName: name }
}

function setup() {
  const bob = device('bob', 1)
  const carol = device('carol', 2)
  const members = new Map<string, KnownDevice>([bob, carol].map((d) => [d.peerId, d]))
  const persisted: string[] = []
  const changes: Array<[string, boolean]> = []
  const receipts = new FileReceipts({
    deviceOf: (conversation, peer) => (conversation === CONV ? members.get(peer)?.device : undefined),
    persist: (_file, blob, d) => {
      persisted.push(`${blob.slice(0, 4)}:${d.slice(0, 2)}`)
      return Promise.resolve()
    },
    changed: (_file, blob, completed) => changes.push([blob.slice(0, 4), completed]),
  })
  receipts.track(BLOB, { conversation: CONV, message: '11'.repeat(16) as MessageId, index: 0 })
  const view = () => receipts.view(BLOB, 3000, [device('me', 0), bob, carol], ME)
  return { receipts, bob, carol, members, persisted, changes, view }
}

describe('FileReceipts', () => {
  it('a device that was served every chunk has the file; one served some is partway; each chunk counts once', () => {
    const { receipts, persisted, changes, view } = setup()
    expect(view()).toEqual({ receivedBy: [], recipients: 2 })
    for (const i of [0, 0, 1]) receipts.served(CONV, BLOB, 'peer-bob', i, 3)
    receipts.served(CONV, BLOB, 'peer-carol', 2, 3)
    expect(view()?.receivedBy.map((r) => [r.displayName, r.received, r.complete])).toEqual([
      ['bob', 2000, false],
      ['carol', 1000, false],
    ])
    receipts.served(CONV, BLOB, 'peer-bob', 2, 3)
    expect(view()?.receivedBy.map((r) => [r.displayName, r.received, r.complete])).toEqual([
      ['bob', 3000, true],
      ['carol', 1000, false],
    ])
    expect(persisted).toEqual(['eeee:01'])
    expect(changes.filter(([, done]) => done)).toHaveLength(1)
    // Served again after it completed: nothing new.
    for (const i of [0, 1, 2]) receipts.served(CONV, BLOB, 'peer-bob', i, 3)
    expect(persisted).toHaveLength(1)
  })

  it('counts nothing for a stranger, another conversation, a file not ours, or a chunk index out of range', () => {
    const { receipts, persisted, changes, view } = setup()
    for (let i = 0; i < 3; i++) {
      receipts.served(CONV, BLOB, 'peer-mallory', i, 3)
      receipts.served(OTHER, BLOB, 'peer-bob', i, 3)
      receipts.served(CONV, 'ff'.repeat(32), 'peer-bob', i, 3)
    }
    receipts.served(CONV, BLOB, 'peer-bob', 3, 3)
    receipts.served(CONV, BLOB, 'peer-bob', -1, 3)
    expect(view()).toEqual({ receivedBy: [], recipients: 2 })
    expect(persisted).toEqual([])
    expect(changes).toEqual([])
    expect(receipts.view('ff'.repeat(32), 10, [], ME)).toBeUndefined()
  })

  it('a device removed before its last chunk is not counted; one removed after is not shown', () => {
    const { receipts, members, persisted } = setup()
    receipts.served(CONV, BLOB, 'peer-bob', 0, 2)
    members.delete('peer-bob')
    receipts.served(CONV, BLOB, 'peer-bob', 1, 2)
    expect(persisted).toEqual([])
    receipts.served(CONV, BLOB, 'peer-carol', 0, 1)
    expect(persisted).toEqual(['eeee:02'])
    // Carol leaves: the list is of current members only.
    expect(receipts.view(BLOB, 10, [device('me', 0)], ME)).toEqual({ receivedBy: [], recipients: 0 })
  })

  it('remembers the devices it is given at start-up, and forgets a file untracked', () => {
    const { receipts, bob, carol } = setup()
    receipts.track(BLOB, { conversation: CONV, message: '11'.repeat(16) as MessageId, index: 0 }, [carol.device])
    expect(receipts.view(BLOB, 10, [bob, carol], ME)?.receivedBy).toEqual([{ account: carol.account, displayName: 'carol', device: carol.device, received: 10, complete: true }])
    receipts.served(CONV, BLOB, 'peer-bob', 0, 2)
    receipts.untrack(BLOB)
    expect(receipts.isOwn(BLOB)).toBe(false)
    expect(receipts.view(BLOB, 10, [bob, carol], ME)).toBeUndefined()
    receipts.served(CONV, BLOB, 'peer-bob', 1, 2)
    expect(receipts.isOwn(BLOB)).toBe(false)
  })

  it('keeps at most 4096 partial fetches, dropping the least recently touched', () => {
    const peers = new Map<string, DeviceId>()
    const receipts = new FileReceipts({
      deviceOf: (_c, peer) => {
        if (!peers.has(peer)) peers.set(peer, String(peers.size).padStart(64, '0') as DeviceId)
        return peers.get(peer)
      },
      persist: () => Promise.resolve(),
      changed: () => {},
    })
    receipts.track(BLOB, { conversation: CONV, message: '11'.repeat(16) as MessageId, index: 0 })
    for (let p = 0; p < 5000; p++) receipts.served(CONV, BLOB, `p${p}`, 0, 4)
    // Touch the first survivor again: the next ones to go are after it.
    receipts.served(CONV, BLOB, 'p904', 1, 4)
    receipts.served(CONV, BLOB, 'p5000', 0, 4)
    const devices = [...peers].map(([peerId, d]) => ({ device: d, account: d as unknown as AccountId, peerId, displayName: peerId }))
    const shown = receipts.view(BLOB, 4, devices, ME)!.receivedBy.map((r) => r.displayName)
    expect(shown).toHaveLength(4096)
    expect(shown).toContain('p904')
    expect(shown).not.toContain('p905')
    expect(shown).toContain('p5000')
  })
})
