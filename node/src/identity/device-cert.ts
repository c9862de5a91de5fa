import { z } from 'zod'
import { signWithLabel, verifyWithLabel } from '../../common/crypto/ed25519.js'
import { Labels } from '../../common/crypto/labels.js'
import { HearthError } from '../../common/errors.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { bytes, parseWire, uint } from '../../common/wire/schema.js'
import { accountIdOf, deviceIdOf, type AccountId, type DeviceId } from '../ids.js'

/**
 * A device certificate: the account key vouches for one device's signing and X25519 keys and its current libp2p
 * PeerId. Members learn each other's devices from the certificates embedded in the membership log, so a device can
 * only be added by someone who holds a certificate the account signed.
 */
export interface DeviceCert {
  account: AccountId
  device: DeviceId
  /** X25519 public key that sealed boxes (epoch secrets, chain keys) are addressed to. */
  dhPublic: Uint8Array
  /** libp2p PeerId (text) this device listens as: lets members recognise each other's connections. */
  peerId: string
  displayName: string
  createdAt: number
  /** The encoded certificate, exactly as signed (kept so it can be embedded and re-verified byte for byte). */
  bytes: Uint8Array
}

export const MAX_DISPLAY_NAME = 64

// C0/C1 controls and the bidirectional overrides/isolates, which could make a name render as someone else's.
const FORBIDDEN_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

/**
 * Why `name` is not an acceptable display name as it stands (untrimmed, empty, too long, control characters), or
 * undefined when it is. One rule for what a person types and for names that arrive from peers in membership operations.
 */
export function displayNameProblem(name: string): string | undefined {
  if (name !== name.trim()) return 'display name has leading or trailing spaces'
  if (name.length === 0) return 'display name must not be empty'
  if ([...name].length > MAX_DISPLAY_NAME) return `display name must be at most ${MAX_DISPLAY_NAME} characters`
  if (FORBIDDEN_IN_NAMES.test(name)) return 'display name must not contain control or direction-override characters'
  return undefined
}
const MAX_CERT_BYTES = 1024

const bodySchema = z.object({
  v: z.literal(1),
  a: bytes(32),
  d: bytes(32),
  x: bytes(32),
  p: z.string().min(1).max(128),
  n: z.string().max(MAX_DISPLAY_NAME * 4),
  t: uint,
})
const certSchema = z.object({ b: z.instanceof(Uint8Array), s: bytes(64) })

export function issueDeviceCert(input: {
  accountSeed: Uint8Array
  accountPublic: Uint8Array
  devicePublic: Uint8Array
  dhPublic: Uint8Array
  peerId: string
  displayName: string
  createdAt: number
}): DeviceCert {
  const body = encodeCbor({
    v: 1,
    a: input.accountPublic,
    d: input.devicePublic,
    x: input.dhPublic,
    p: input.peerId,
    n: input.displayName,
    t: input.createdAt,
  })
  const s = signWithLabel(input.accountSeed, Labels.deviceCert, body)
  return decodeDeviceCert(encodeCbor({ b: body, s }))
}

/** Parses and verifies a certificate; throws MALFORMED or BAD_SIGNATURE. */
export function decodeDeviceCert(encoded: Uint8Array): DeviceCert {
  const outer = parseWire(certSchema, decodeCbor(encoded, MAX_CERT_BYTES, 'device certificate'), 'device certificate')
  const body = parseWire(bodySchema, decodeCbor(outer.b, MAX_CERT_BYTES, 'device certificate'), 'device certificate')
  if (!verifyWithLabel(body.a, Labels.deviceCert, outer.b, outer.s)) {
    throw new HearthError('BAD_SIGNATURE', 'device certificate is not signed by its account key')
  }
  return {
    account: accountIdOf(body.a),
    device: deviceIdOf(body.d),
    dhPublic: body.x,
    peerId: body.p,
    displayName: body.n,
    createdAt: body.t,
    bytes: encoded,
  }
}
