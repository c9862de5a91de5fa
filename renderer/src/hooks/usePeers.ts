import { useEffect, useState } from 'react'
import type { PeerView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'

/**
 * Devices connected right now (`network.peers`), kept current by `peer.changed`. The core sends that event on every
 * connection change and after every membership change (a device gets its person's name once it is in a conversation
 * with us, and a new name when the person changes it).
 */
export function usePeers(api: Api): PeerView[] | null {
  const [peers, setPeers] = useState<PeerView[] | null>(null)
  useEffect(() => {
    let alive = true
    let changed = false
    const offPeers = api.on('peer.changed', ({ peers: next }) => {
      changed = true
      setPeers(next)
    })
    api.call('network.peers').then(
      // An event that came while this was in flight is newer than the answer.
      (loaded) => alive && !changed && setPeers(loaded),
      // The list is informative: when it cannot be read the status stays as it was.
      () => {},
    )
    return () => {
      alive = false
      offPeers()
    }
  }, [api])
  return peers
}
