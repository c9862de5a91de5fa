/**
 * JSON records as bytes. Reading requires a validator (a zod schema's `parse` fits) so that a corrupt or outdated value
 * is caught where it is read, as CORRUPT_DATA, instead of flowing on as a wrongly typed object.
 */
import { HearthError, isHearthError } from '../errors.js'
import { fromUtf8, utf8 } from '../util/bytes.js'

export function encodeJson(value: unknown): Uint8Array {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    // cycles, BigInt
    throw new HearthError('INVALID_INPUT', `value cannot be stored as JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    })
  }
  if (text === undefined) throw new HearthError('INVALID_INPUT', `value cannot be stored as JSON: ${typeof value}`)
  return utf8(text)
}

export function decodeJson<T>(bytes: Uint8Array, validate: (value: unknown) => T, what = 'record'): T {
  let value: unknown
  try {
    value = JSON.parse(fromUtf8(bytes))
  } catch (err) {
    throw new HearthError('CORRUPT_DATA', `stored ${what} is not valid JSON`, { cause: err })
  }
  try {
    return validate(value)
  } catch (err) {
    if (isHearthError(err, 'CORRUPT_DATA')) throw err
    throw new HearthError(
      'CORRUPT_DATA',
      `stored ${what} has an unexpected shape: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    )
  }
}
