import { z } from 'zod'
import { HearthError } from '../errors.js'

/** Zod helpers for wire payloads: fixed-size byte strings and a parse that turns failures into MALFORMED. */
export const bytes = (length?: number) =>
  length === undefined
    ? z.instanceof(Uint8Array)
    : z.instanceof(Uint8Array).refine((b) => b.length === length, `must be ${length} bytes`)

export const boundedBytes = (max: number) => z.instanceof(Uint8Array).refine((b) => b.length <= max, `over ${max} bytes`)

export const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

export function parseWire<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  // A well-formed map from a newer Hearth deserves a clearer answer than "malformed".
  if (typeof value === 'object' && value !== null && 'v' in value) {
    const v = (value as { v: unknown }).v
    if (typeof v === 'number' && v !== 1) {
      throw new HearthError('UNSUPPORTED_VERSION', `${what} version ${v} is not supported (this Hearth reads version 1)`)
    }
  }
  const result = schema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
    throw new HearthError('MALFORMED', `invalid ${what}${where}: ${issue?.message ?? 'unknown'}`, {
      publicMessage: `malformed ${what}`,
    })
  }
  return result.data
}
