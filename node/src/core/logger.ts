import { pino, type Logger as PinoLogger } from 'pino'

/**
 * JSON logs (pino). The core logs events and errors, never message contents or keys: a log line may travel in a bug
 * report.
 */
export type Logger = PinoLogger

export const Logger = {
  create(options: { level?: string; name?: string } = {}): Logger {
    return pino({ name: options.name ?? 'hearth', level: options.level ?? process.env.HEARTH_LOG_LEVEL ?? 'info' }, pino.destination(2))
  },
  silent(): Logger {
    return pino({ level: 'silent' })
  },
}
