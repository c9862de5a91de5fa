import { useEffect, useState } from 'react'
import type { PeerView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'

/**
 * Devices connected right now (`network.peers`), kept current by `peer.changed`. A device gets its person's name once
 * it is in a conversation with us, which the core reports as a conversation update, not a peer change: the list is
 * read again then too.
 */
export function usePeers(api: Api): PeerView[] | null {
  const [peers, setPeers] = useState<PeerView[] | null>(null)
  useEffect(() => {
    let alive = true
    let generation = 0
    let reading = false
    let again = false
    const read = () => {
      if (reading) {
        again = true
        return
      }
      reading = true
      const asked = generation
      api.call('network.peers').then(
        // An event that came while this was in flight is newer than the answer.
        (loaded) => alive && asked === generation && setPeers(loaded),
        // The list is informative: when it cannot be read the status stays as it was.
        () => {},
      ).finally(() => {
        reading = false
        if (again && alive) {
          again = false
          read()
        }
      })
    }
    const offPeers = api.on('peer.changed', ({ peers: next }) => {
      generation++
      setPeers(next)
    })
    const offConversations = api.on('conversation.updated', read)
    read()
    return () => {
      alive = false
      offPeers()
      offConversations()
    }
  }, [api])
  return peers
}
