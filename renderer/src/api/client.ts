/**
 * The typed face of the core API for the UI: method names, parameters, results and event payloads all come from the
 * one contract (node/src/api/contract.ts), whichever transport carries them.
 */
import { HearthError } from '../../../node/common/errors.js'
import type { EventName, EventPayload, Method, Result } from '../../../node/src/api/contract.js'
import { MAX_API_MESSAGE_BYTES } from '../../../node/src/api/protocol.js'
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
      const payload = params[0] ?? {}
      // The core would refuse it anyway; not sending it spares the connection a frame it can only answer with TOO_LARGE.
      if (requestBytes(method, payload) > MAX_API_MESSAGE_BYTES) {
        throw new HearthError('TOO_LARGE', 'This is too large to send to Hearth.')
      }
      try {
        return (await transport.call(method, payload)) as Result<typeof method>
      } catch (err) {
        throw toHearthError(err)
      }
    },
    on: (event, listener) => transport.on(event, listener as (payload: unknown) => void),
    onClose: (listener) => transport.onClose(listener),
  }
}

const encoder = new TextEncoder()
/** Room for `{"id":…,"method":"…","params":}` around the parameters. */
const ENVELOPE_BYTES = 64

/** The size of the request as a carrier writes it, in UTF-8 bytes (encoded only when the length cannot decide). */
export function requestBytes(method: string, params: unknown): number {
  const text = JSON.stringify(params) ?? ''
  const bound = text.length + method.length + ENVELOPE_BYTES
  if (bound > MAX_API_MESSAGE_BYTES || bound * 3 <= MAX_API_MESSAGE_BYTES) return bound
  return encoder.encode(text).length + method.length + ENVELOPE_BYTES
}

// What a failed call says to the person is decided in one place, with the field it belongs to (lib/error-text.ts).
export { errorText } from '../lib/error-text.js'
