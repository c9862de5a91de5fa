import { useEffect, useState } from 'react'
import type { PeerView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'

/** Devices connected right now (`network.peers`), kept current by `peer.changed`. Null until first known. */
export function usePeers(api: Api): PeerView[] | null {
  const [peers, setPeers] = useState<PeerView[] | null>(null)
  useEffect(() => {
    let alive = true
    let fromEvent = false
    const off = api.on('peer.changed', ({ peers: next }) => {
      fromEvent = true
      setPeers(next)
    })
    api.call('network.peers').then(
      (loaded) => alive && !fromEvent && setPeers(loaded),
      // The list is informative; when it cannot be read the status shows "unknown" rather than an error.
      () => {},
    )
    return () => {
      alive = false
      off()
    }
  }, [api])
  return peers
}
