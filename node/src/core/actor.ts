import { sha256 } from '../../common/crypto/kdf.js'
import { fromHex, toHex } from '../../common/util/bytes.js'
import { asActorId, type ActorId } from '../../../crdt/src/index.js'
import type { DeviceId } from '../ids.js'

const cache = new Map<string, ActorId>()

/** The Automerge actor id of a device: 16 bytes of the hash of its signing key, so it is fixed and checkable. */
export function actorOf(device: DeviceId): ActorId {
  let actor = cache.get(device)
  if (actor === undefined) {
    actor = asActorId(toHex(sha256(fromHex(device)).subarray(0, 16)))
    if (cache.size > 10_000) cache.clear()
    cache.set(device, actor)
  }
  return actor
}
