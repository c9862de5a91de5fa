/**
 * Valid encodings for the fuzzers to mutate, built deterministically (fixed keys, fixed nonces, fixed clocks) so one
 * seed always replays the same inputs.
 */
import { sha256 } from '../../node/common/crypto/kdf.js'
import { sealWithNonce } from '../../node/common/crypto/aead.js'
import { signingKeyPairFromSeed, signWithLabel, type SigningKeyPair } from '../../node/common/crypto/ed25519.js'
import { Labels } from '../../node/common/crypto/labels.js'
import { concatBytes } from '../../node/common/util/bytes.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import { ENVELOPE_VERSION, ENVELOPE_VERSION_SECRETS, EnvelopeKind, stripEnvelope, type EnvelopeFrame } from '../../node/common/wire/envelope.js'
import { issueDeviceCert, type DeviceCert } from '../../node/src/identity/device-cert.js'

export const key = (fill: number): SigningKeyPair => signingKeyPairFromSeed(new Uint8Array(32).fill(fill))
export const bytesOf = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

/** A PeerId-shaped string: certificates and invites carry one as text and only check its length. */
export const PEER_ID = '12D3KooWFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuz'
export const NOW = 1_764_633_600_000

export interface TestDevice {
  account: SigningKeyPair
  device: SigningKeyPair
  cert: DeviceCert
}

export function testDevice(fill: number, name: string): TestDevice {
  const account = key(fill)
  const device = key(fill + 1)
  const cert = issueDeviceCert({
    accountSeed: account.seed,
    accountPublic: account.publicKey,
    devicePublic: device.publicKey,
    dhPublic: bytesOf(32, fill + 2),
    peerId: PEER_ID,
    displayName: name,
    createdAt: NOW,
  })
  return { account, device, cert }
}

export const HEADER_KEY = bytesOf(32, 0x11)
export const BODY_KEY = bytesOf(32, 0x22)
export const EPOCH_TAG = bytesOf(8, 0x33)

/**
 * `sealEnvelope` with fixed nonces and a header plaintext given as bytes, so the fuzzer can put any header (valid or
 * mutated CBOR) inside a box that opens, and reach the header decoder behind the AEAD.
 */
export function sealRawEnvelope(input: { headerPlain: Uint8Array; body: Uint8Array; signer: SigningKeyPair; nonce: number; secretsBox?: Uint8Array }): Uint8Array {
  const prefix = concatBytes(Uint8Array.of(input.secretsBox === undefined ? ENVELOPE_VERSION : ENVELOPE_VERSION_SECRETS), EPOCH_TAG)
  const headerNonce = bytesOf(24, input.nonce & 0xff)
  const headerBox = concatBytes(headerNonce, sealWithNonce(HEADER_KEY, headerNonce, input.headerPlain, prefix))
  const bodyAd = concatBytes(prefix, Uint8Array.of(headerBox.length >> 8, headerBox.length & 0xff), headerBox)
  const bodyNonce = bytesOf(24, (input.nonce + 1) & 0xff)
  const bodyBox = concatBytes(bodyNonce, sealWithNonce(BODY_KEY, bodyNonce, input.body, bodyAd))
  const signed = concatBytes(bodyAd, bodyBox)
  const core = concatBytes(signed, signWithLabel(input.signer.seed, Labels.envelopeSig, signed))
  const box = input.secretsBox
  return box === undefined ? core : concatBytes(core, box, Uint8Array.of(box.length >> 8, box.length & 0xff))
}

/** A version 3 envelope's secrets box, sealed the way envelope.ts does, with a fixed nonce. */
export function secretsBoxFor(secrets: Uint8Array, nonce: number): Uint8Array {
  const ad = concatBytes(Uint8Array.of(ENVELOPE_VERSION_SECRETS), EPOCH_TAG, new TextEncoder().encode('hearth/v1/envelope-secrets'))
  const n = bytesOf(24, nonce & 0xff)
  return concatBytes(n, sealWithNonce(BODY_KEY, n, secrets, ad))
}

export function headerPlain(device: Uint8Array, seq: number, kind: number, body: Uint8Array, secretsBox?: Uint8Array): Uint8Array {
  return encodeCbor(secretsBox === undefined ? { d: device, s: seq, k: kind, h: sha256(body) } : { d: device, s: seq, k: kind, h: sha256(body), x: sha256(secretsBox) })
}

/** Valid envelopes of every kind from one device. */
export function envelopeSeeds(signer: SigningKeyPair): Uint8Array[] {
  const bodies = [new Uint8Array(0), bytesOf(1, 1), bytesOf(300, 7), bytesOf(4000, 9)]
  const kinds = [EnvelopeKind.content, EnvelopeKind.membership, EnvelopeKind.keys, EnvelopeKind.signal]
  const v2 = kinds.flatMap((kind, k) =>
    bodies.map((body, b) =>
      sealRawEnvelope({ headerPlain: headerPlain(signer.publicKey, kind === EnvelopeKind.signal ? 0 : 1 + b * 1000, kind, body), body, signer, nonce: k * 8 + b * 2 }),
    ),
  )
  // Version 3: with content secrets, and the same stripped of them.
  const v3 = bodies.slice(1, 3).map((body, b) => {
    const secretsBox = secretsBoxFor(bytesOf(40 + b, 5), 100 + b)
    return sealRawEnvelope({ headerPlain: headerPlain(signer.publicKey, 7 + b, EnvelopeKind.content, body, secretsBox), body, signer, nonce: 90 + b * 2, secretsBox })
  })
  return [...v2, ...v3, ...v3.map((e) => stripEnvelope(e))]
}

/** The frame's fields must lie inside the envelope and add up to it. */
export function frameIsConsistent(f: EnvelopeFrame): boolean {
  return (
    f.epochTag.length === 8 &&
    f.signature.length === 64 &&
    f.headerBox.length >= 40 &&
    f.bodyBox.length >= 40 &&
    11 + f.headerBox.length + f.bodyBox.length + 64 === f.core.length &&
    f.signed.length === f.core.length - 64 &&
    f.core.length + (f.secretsBox === undefined ? 0 : (f.secretsBox?.length ?? 0) + 2) === f.bytes.length
  )
}
