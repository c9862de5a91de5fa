import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openSealed } from '../../node/common/crypto/sealed-box.js'
import { keyAt } from '../../node/common/crypto/sender-chain.js'
import { decodeNumber, splitKey } from '../../node/common/storage/keyspace.js'
import { fromBase64Url } from '../../node/common/util/bytes.js'
import { EnvelopeKind, openEnvelopeBody, openEnvelopeHeader, openEnvelopeSecrets, parseEnvelopeFrame } from '../../node/common/wire/envelope.js'
import { sealContext, type EpochKeys } from '../../node/src/conversation/epoch-keys.js'
import { decodeChainGrant, decodeKeys } from '../../node/src/history/payloads.js'
import type { TestCore } from './cores.js'

type Internals = { conversations: Map<string, { epochs: Map<string, EpochKeys>; own: Map<string, { initialKey: string }> }> }

/**
 * Everything a device can read back from what it keeps: every database record opened with its database key, and every
 * stored envelope opened with the keys it holds (its own chains, and the chains other devices granted it: the grants
 * are in its store too), body and secrets. What a deleted message must not be found in.
 */
export async function readableBack(c: TestCore): Promise<Uint8Array[]> {
  const store = c.core.store
  const rts = (c.core as unknown as Internals).conversations
  const out: Uint8Array[] = []
  const envelopes: Array<{ conversation: string; epoch: string; device: string; seq: number; bytes: Uint8Array }> = []
  for await (const [k, v] of store.db.iterate()) {
    const parts = splitKey(k)
    if (parts[0] === 'env') {
      envelopes.push({ conversation: parts[1]!, epoch: parts[2]!, device: parts[3]!, seq: decodeNumber(parts[4]!), bytes: v })
      continue
    }
    try {
      out.push(store.openSealed(k, v))
    } catch {
      out.push(v) // not sealed (indexes): as stored
    }
  }
  // Chains: our own from our chain records, others' from the keys envelopes granted to us.
  const chains = new Map<string, Uint8Array>()
  for (const [conversation, rt] of rts) for (const [epoch, own] of rt.own) chains.set(`${conversation}/${epoch}/${c.identity.deviceId}`, fromBase64Url(own.initialKey))
  const opened = envelopes.flatMap((e) => {
    const keys = rts.get(e.conversation)?.epochs.get(e.epoch)
    if (keys === undefined) return []
    const frame = parseEnvelopeFrame(e.bytes)
    return [{ ...e, keys, frame, header: openEnvelopeHeader(frame, keys.envelope.headerKey, { verifySignature: false }) }]
  })
  for (const e of opened) {
    if (e.header.kind !== EnvelopeKind.keys) continue
    const grant = decodeKeys(openEnvelopeBody(e.frame, e.header, e.keys.controlKey)).recipients.find((r) => r.device === c.identity.deviceId)
    if (grant === undefined) continue
    const plain = openSealed(c.identity.dhKey, grant.box, sealContext('chain', e.conversation, `${e.epoch}/${e.device}`))
    chains.set(`${e.conversation}/${e.epoch}/${e.device}`, decodeChainGrant(plain))
  }
  for (const e of opened) {
    if (e.header.kind !== EnvelopeKind.content) {
      if (e.header.kind !== EnvelopeKind.keys) out.push(openEnvelopeBody(e.frame, e.header, e.keys.controlKey))
      continue
    }
    const chain = chains.get(`${e.conversation}/${e.epoch}/${e.device}`)
    if (chain === undefined) continue
    const key = keyAt({ chainKey: chain, index: 0 }, e.seq).key
    out.push(openEnvelopeBody(e.frame, e.header, key))
    const secrets = openEnvelopeSecrets(e.frame, e.header, key)
    if (secrets !== null) out.push(secrets)
  }
  return out
}

/** Every file under a directory, as bytes. */
export async function filesUnder(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(await readFile(join(entry.parentPath, entry.name)))
  }
  return out
}

export function containsBytes(haystacks: readonly Uint8Array[], needle: Uint8Array): boolean {
  return haystacks.some((h) => Buffer.from(h.buffer, h.byteOffset, h.byteLength).includes(Buffer.from(needle)))
}
