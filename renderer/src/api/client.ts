/**
 * The typed face of the core API for the UI: method names, parameters, results and event payloads all come from the
 * one contract (node/src/api/contract.ts), whichever transport carries them.
 */
import type { EventName, EventPayload, Method, Result } from '../../../node/src/api/contract.js'
import type { ParamsArg } from '../../../node/src/api/ws-client.js'
import { toHearthError, type Transport } from './transport.js'

export interface Api {
  call<M extends Method>(method: M, ...params: ParamsArg<M>): Promise<Result<M>>
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void
  onClose(listener: (reason: string) => void): () => void
}

export function createApi(transport: Transport): Api {
  return {
    async call(method, ...params) {
      try {
        return (await transport.call(method, params[0] ?? {})) as Result<typeof method>
      } catch (err) {
        throw toHearthError(err)
      }
    },
    on: (event, listener) => transport.on(event, listener as (payload: unknown) => void),
    onClose: (listener) => transport.onClose(listener),
  }
}

/** Codes whose message is better said differently in the UI than in the CLI. */
const FRIENDLY: Partial<Record<string, string>> = {
  WRONG_PASSPHRASE: 'That passphrase is not right.',
  NOT_RUNNING: 'Hearth is not running. Start it again and reopen this window.',
}

/** The text to show for a failed call: the core's message is written for people (codes are for code). */
export function errorText(err: unknown): string {
  const error = toHearthError(err)
  return FRIENDLY[error.code] ?? error.message
}
