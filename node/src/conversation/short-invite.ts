import { multiaddr } from '@multiformats/multiaddr'
import { HearthError } from '../../common/errors.js'

/**
 * The short form of an invite, short enough to read out or type from a phone screen:
 *
 *   hearth://j/<code>@<locator>      e.g. hearth://j/K7Q29XHM4RTWPLZ3G8N2@0G2M0001TB4Y2A8
 *
 * `code` is 19 Crockford base32 symbols of secret (95 bits) and one check symbol; `locator` is ONE way to reach a
 * device that holds the invite (a binary multiaddr, base32) and its own check symbol. Everything else the invite
 * says (conversation, log root, name, addresses, relays, expiry) is fetched with keys derived from the secret
 * (short-invite-keys.ts). Text is case-insensitive; spaces and dashes are ignored, and I/L read as 1, O as 0, so
 * what a person copies by hand decodes. This module is pure (no crypto) so the UI can check a typed code as well.
 */
export const SHORT_INVITE_PREFIX = 'hearth://j/'
export const SECRET_SYMBOLS = 19
/** Secret symbols plus the check symbol. */
export const CODE_CHARS = SECRET_SYMBOLS + 1
/** A locator is a multiaddr of at most this many bytes (a relay circuit to a peer fits; see LIMITS.md). */
export const MAX_LOCATOR_BYTES = 96
/** Anything longer than this cannot be a short invite; refused before any work. */
const MAX_SHORT_TEXT = 400

/** The 32 symbols (Crockford base32); link codes (identity/link-code.ts) use the same. */
export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const VALUE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]))
for (const [alias, to] of [['I', '1'], ['L', '1'], ['O', '0']] as const) VALUE.set(alias, VALUE.get(to)!)

export interface ShortInvite {
  /** The 19 secret symbols, canonical (upper case, aliases resolved). */
  secret: string
  /** A binary multiaddr: one address of a device holding the invite (direct, or a relay circuit to it). */
  locator: Uint8Array
}

/** A person-facing refusal of typed or pasted text; the UI shows the message next to the field. */
const typo = (message = 'This invite code has a typo: check it against the one you were given.') =>
  new HearthError('INVITE_INVALID', message)

export function formatShortInvite(s: ShortInvite): string {
  return `${SHORT_INVITE_PREFIX}${withCheck(s.secret)}@${withCheck(bytesToSymbols(s.locator))}`
}

/**
 * The link in groups of four for reading out, the code and the locator apart: `K7Q2 9XHM 4RTW PLZ3 G8N2 @ 0G2M …`.
 * `parseShortInvite` reads this form back.
 */
export function groupForReading(link: string): string {
  const body = link.startsWith(SHORT_INVITE_PREFIX) ? link.slice(SHORT_INVITE_PREFIX.length) : link
  const [code = '', locator = ''] = body.split('@')
  const groups = (t: string) => t.match(/.{1,4}/g)?.join(' ') ?? ''
  return `${groups(code)} @ ${groups(locator)}`
}

/** True when the text is meant as a short invite (its prefix, or bare `code@locator`), so errors can be specific. */
export function looksLikeShortInvite(text: string): boolean {
  const t = text.trim()
  return t.toLowerCase().startsWith(SHORT_INVITE_PREFIX) || (t.length <= MAX_SHORT_TEXT && /^[0-9a-z\s-]+@[0-9a-z\s-]*$/i.test(t))
}

/** Reads a short invite as typed or pasted; every refusal says what is wrong in words for a person. */
export function parseShortInvite(text: string): ShortInvite {
  let t = text.trim()
  if (t.length > MAX_SHORT_TEXT) throw typo('This is too long to be an invite code.')
  if (t.toLowerCase().startsWith(SHORT_INVITE_PREFIX)) t = t.slice(SHORT_INVITE_PREFIX.length)
  t = t.replace(/[\s-]/g, '').toUpperCase()
  const at = t.indexOf('@')
  if (at < 0) throw typo('This invite code is missing the part after @ (where to find the person who invited you).')
  const code = t.slice(0, at)
  const place = t.slice(at + 1)
  if (code.length !== CODE_CHARS) {
    throw typo(`The code before @ should be ${CODE_CHARS} letters and digits; this one has ${code.length}.`)
  }
  const secret = checked(code)
  const symbols = checked(place)
  const locator = symbolsToBytes(symbols)
  if (locator === null || locator.length === 0 || locator.length > MAX_LOCATOR_BYTES) throw typo()
  try {
    multiaddr(locator)
  } catch {
    throw typo()
  }
  return { secret, locator }
}

/** Canonical secret symbols from random or derived bytes (at least 12 bytes; the first 95 bits are used). */
export function secretFromBytes(b: Uint8Array): string {
  if (b.length < 12) throw new HearthError('INVALID_INPUT', 'a short invite secret needs 12 bytes')
  return bytesToSymbols(b.subarray(0, 12)).slice(0, SECRET_SYMBOLS)
}

/** Validates symbols and strips the check symbol; a wrong one is a typo. */
export function checked(text: string): string {
  if (text.length < 2) throw typo()
  const values: number[] = []
  for (const c of text) {
    const v = VALUE.get(c)
    if (v === undefined) throw typo(`"${c}" is not used in invite codes: they hold only digits and letters.`)
    values.push(v)
  }
  if (checkValue(values) !== 0) throw typo()
  return values
    .slice(0, -1)
    .map((v) => ALPHABET[v])
    .join('')
}

export function withCheck(symbols: string): string {
  const values = [...symbols].map((c) => VALUE.get(c)!)
  // The check c makes the weighted sum zero: weight(0)·c ⊕ S = 0 with weight(0) = 1, so c = S.
  return symbols + ALPHABET[checkValue([...values, 0])]!
}

/*
 * The check: a weighted sum over GF(32) (x⁵+x²+1, a primitive polynomial), the last symbol weighted 1 and each earlier
 * one by the next power of the generator. Every weight is nonzero, so any single wrong symbol changes the sum; any two
 * neighbours have different weights, so swapping two different neighbouring symbols changes it too.
 */
const EXP: number[] = []
{
  let x = 1
  for (let i = 0; i < 31; i++) {
    EXP.push(x)
    x <<= 1
    if (x & 32) x ^= 0b100101
  }
}
const LOG = new Map(EXP.map((v, i) => [v, i]))

function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0
  return EXP[(LOG.get(a)! + LOG.get(b)!) % 31]!
}

function checkValue(values: number[]): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum ^= gfMul(EXP[(values.length - 1 - i) % 31]!, values[i]!)
  return sum
}

export function bytesToSymbols(b: Uint8Array): string {
  let out = ''
  let acc = 0
  let bits = 0
  for (const byte of b) {
    acc = (acc << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(acc >> (bits - 5)) & 31]
      bits -= 5
    }
    acc &= (1 << bits) - 1
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31]
  return out
}

/** The bytes back, or null when the symbols cannot be an encoding (non-zero padding bits: a typo in the last one). */
export function symbolsToBytes(symbols: string): Uint8Array | null {
  const out: number[] = []
  let acc = 0
  let bits = 0
  for (const c of symbols) {
    acc = (acc << 5) | VALUE.get(c)!
    bits += 5
    if (bits >= 8) {
      out.push((acc >> (bits - 8)) & 255)
      bits -= 8
    }
    acc &= (1 << bits) - 1
  }
  if (bits >= 5 || acc !== 0) return null
  return Uint8Array.from(out)
}

/**
 * The one address a short invite names, from the device's dialable addresses (best first): a direct TCP address
 * (LAN before loopback, as listed) without the device's PeerId, which the handshake proves instead; else a relay
 * circuit, without the relay's PeerId (the joiner learns it by dialing the relay). Null when none fits.
 */
export function pickLocator(addresses: string[]): Uint8Array | null {
  const candidates: Uint8Array[] = []
  for (const address of addresses) {
    let text = address
    const circuit = text.indexOf('/p2p-circuit')
    if (circuit < 0) {
      text = text.replace(/\/p2p\/[^/]+$/, '')
    } else {
      text = text.slice(0, circuit).replace(/\/p2p\/[^/]+$/, '') + text.slice(circuit)
    }
    try {
      const bytes = multiaddr(text).bytes
      if (bytes.length <= MAX_LOCATOR_BYTES) candidates.push(bytes)
    } catch {
      // not an address we can name
    }
  }
  const direct = (b: Uint8Array) => !multiaddr(b).toString().includes('/p2p-circuit')
  const plainTcp = (b: Uint8Array) => /^\/ip[46]\/[^/]+\/tcp\/\d+$/.test(multiaddr(b).toString())
  return candidates.find(plainTcp) ?? candidates.find(direct) ?? candidates[0] ?? null
}
