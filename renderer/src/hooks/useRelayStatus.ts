import { useEffect, useState } from 'react'
import type { NetworkStatus } from '../../../node/src/api/contract.js'
import type { Api } from '../api/client.js'

export type RelayStatus = NetworkStatus['relays'][number]

/**
 * How each relay in use answered last (`network.status`), kept current by `relay.changed`. Null until known; a core
 * that cannot say (or has no relay support) leaves it null, which reads as "no relay trouble".
 */
export function useRelayStatus(api: Api): RelayStatus[] | null {
  const [relays, setRelays] = useState<RelayStatus[] | null>(null)
  useEffect(() => {
    let alive = true
    let changed = false
    const off = api.on('relay.changed', ({ relays: next }) => {
      changed = true
      setRelays(next)
    })
    api.call('network.status').then(
      // An event that came while this was in flight is newer than the answer.
      (status) => alive && !changed && setRelays(status.relays ?? []),
      () => {},
    )
    return () => {
      alive = false
      off()
    }
  }, [api])
  return relays
}
