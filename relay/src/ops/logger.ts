/**
 * JSON logs (pino) on stdout. What the relay logs is content-blind by rule: counts, sizes, durations, reasons,
 * PeerIds of misbehaving peers at warn; never envelope bytes, never key material, never mailbox ids at info or above
 * (docs/SECURITY.md, "The relay"). Secrets in the configuration are masked before it is logged (config.ts).
 */
import { pino, type DestinationStream, type Logger } from 'pino'

export type { Logger }

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hearth-relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: should a field with one of these names ever reach a log call, it is masked.
      redact: { paths: ['metricsToken', '*.metricsToken', 'secret', '*.secret'], censor: '***' },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  )
}
