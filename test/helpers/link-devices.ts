/**
 * Linking a new device to a running test core, with real pairing: both sides compare the code and accept. The new
 * device's identity and conversations come back for the test to start a core with (startCore + importLinked).
 */
import { linkAsNewDevice, type LinkedDevice } from '../../node/src/core/devices/new-device.js'
import type { Core } from '../../node/src/core/core.js'
import type { ConversationId } from '../../node/src/ids.js'
import { connect, startCore, type StartOptions, type TestCore } from './cores.js'

/** Links a new device to `existing`: both people compare the code and accept. Returns what the new device got. */
export async function link(existing: Core, options: { relays?: string[] } = {}): Promise<{ linked: LinkedDevice; codes: string[] }> {
  const codes: string[] = []
  const off = existing.events.on('devices.linking', (p) => {
    if (p.stage !== 'confirm') return
    codes.push(p.code!)
    existing.devices.confirmLink(true)
  })
  let shown: (link: string) => void
  const linkShown = new Promise<string>((resolve) => (shown = resolve))
  const newSide = linkAsNewDevice({
    network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false },
    ...(options.relays === undefined ? {} : { relays: options.relays }),
    onLink: (l) => shown(l),
    onConfirmationCode: (c) => codes.push(c),
    confirm: async () => true,
  })
  try {
    const oldSide = existing.devices.link(await linkShown)
    const [linked] = await Promise.all([newSide, oldSide])
    return { linked, codes }
  } finally {
    off()
  }
}

/**
 * Alice and Bob, connected, in a group "Family" alice created and bob joined: the start of the device tests. Both cores
 * are pushed onto `cores` (the test's list to stop).
 */
export async function familyOfTwo(
  cores: TestCore[],
  options: { alice?: StartOptions; bob?: StartOptions } = {},
): Promise<{ alice: TestCore; bob: TestCore; id: ConversationId }> {
  const alice = await startCore('alice', options.alice)
  const bob = await startCore('bob', options.bob)
  cores.push(alice, bob)
  await connect(alice, bob)
  const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
  const id = group.id as ConversationId
  await bob.core.join((await alice.core.createInvite(id)).code)
  return { alice, bob, id }
}
