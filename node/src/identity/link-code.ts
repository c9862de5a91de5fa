import { multiaddr } from '@multiformats/multiaddr'
import { randomBytes } from '../../common/crypto/random.js'
import { HearthError, isHearthError } from '../../common/errors.js'
import {
  ALPHABET,
  bytesToSymbols,
  checked,
  MAX_LOCATOR_BYTES,
  SECRET_SYMBOLS,
  secretFromBytes,
  symbolsToBytes,
  withCheck,
} from '../conversation/short-invite.js'

/**
 * The code a new device shows so a device already in the account can link it (QR code and text):
 *
 *   hearth://link/<code>@<locator>      e.g. hearth://link/K7Q29XHM4RTWPLZ3G8N2@0G2M0001TB4Y2A8
 *
 * The same shape and alphabet as a short invite (conversation/short-invite.ts): `code` is 19 Crockford base32
 * symbols of secret (95 bits from the system's generator) and one check symbol; `locator` is ONE multiaddr where the
 * new device can be reached (a LAN address, or a relay circuit to it; `pickLocator` chooses) and its check symbol.
 * Typed text is read the same tolerant way (case, spaces, dashes, I/L/O). Pure, so the UI can check a typed code too.
 */
export const LINK_PREFIX = 'hearth://link/'

export interface LinkCode {
  /** The 19 secret symbols, canonical (upper case, aliases resolved). */
  secret: string
  /** A binary multiaddr where the new device listens (direct, or a relay circuit to it). */
  locator: Uint8Array
}

/** Anything longer cannot be a link code; refused before any work. */
const MAX_LINK_TEXT = 400
const CODE_CHARS = SECRET_SYMBOLS + 1
/** The symbols and the aliases a person may type for them. */
const TYPABLE = new Set([...ALPHABET, 'I', 'L', 'O'])

const typo = (message = 'This link code has a typo: check it against the one on the new device.') =>
  new HearthError('LINK_INVALID', message)

/** A fresh secret: 95 bits from the CSPRNG (12 random bytes, the last bit unused), as 19 canonical symbols. */
export function newLinkSecret(): string {
  return secretFromBytes(randomBytes(12))
}

export function formatLinkCode(c: LinkCode): string {
  return `${LINK_PREFIX}${withCheck(c.secret)}@${withCheck(bytesToSymbols(c.locator))}`
}

/** True when the text is meant as a link code (its prefix), so the UI can tell it from an invite and say so. */
export function looksLikeLinkCode(text: string): boolean {
  return text.trim().toLowerCase().startsWith(LINK_PREFIX)
}

/** The code in groups of four for reading out, code and locator apart: `K7Q2 9XHM 4RTW PLZ3 G8N2 @ 0G2M …`. */
export function groupLinkForReading(text: string): string {
  const t = text.trim()
  const body = t.toLowerCase().startsWith(LINK_PREFIX) ? t.slice(LINK_PREFIX.length) : t
  const [code = '', locator = ''] = body.split('@')
  const groups = (s: string) => s.match(/.{1,4}/g)?.join(' ') ?? ''
  return `${groups(code)} @ ${groups(locator)}`
}

/**
 * Reads a link code as scanned, typed or pasted (with or without its prefix, grouped or not); every refusal is a
 * LINK_INVALID whose message says what is wrong in words for a person.
 */
export function parseLinkCode(text: string): LinkCode {
  let t = text.trim()
  if (t.length > MAX_LINK_TEXT) throw typo('This is too long to be a link code.')
  if (t.toLowerCase().startsWith(LINK_PREFIX)) t = t.slice(LINK_PREFIX.length)
  else if (t.toLowerCase().startsWith('hearth://')) throw typo('This is not a link code: it is another kind of Hearth link.')
  t = t.replace(/[\s-]/g, '').toUpperCase()
  const at = t.indexOf('@')
  if (at < 0) throw typo('This link code is missing the part after @ (where to find the new device).')
  if (t.indexOf('@', at + 1) >= 0) throw typo()
  const code = t.slice(0, at)
  const place = t.slice(at + 1)
  for (const c of code + place) {
    if (!TYPABLE.has(c)) throw typo(`"${c}" is not used in link codes: they hold only digits and letters.`)
  }
  if (code.length !== CODE_CHARS) {
    throw typo(`The code before @ should be ${CODE_CHARS} letters and digits; this one has ${code.length}.`)
  }
  const secret = relabel(() => checked(code))
  const locator = symbolsToBytes(relabel(() => checked(place)))
  if (locator === null || locator.length === 0 || locator.length > MAX_LOCATOR_BYTES) throw typo()
  try {
    multiaddr(locator)
  } catch {
    throw typo()
  }
  return { secret, locator }
}

/** short-invite's check speaks of invites; a failed check here is a typo in a link code. */
function relabel(read: () => string): string {
  try {
    return read()
  } catch (err) {
    if (isHearthError(err, 'INVITE_INVALID')) throw typo()
    throw err
  }
}
