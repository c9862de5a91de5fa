/** The address a new device is told to dial after linking (LinkedDevice.from.address) should reach the linking device. */
import { afterEach, expect, it } from 'vitest'
import { linkAsNewDevice } from '../../node/src/core/devices/new-device.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'

let cores: TestCore[] = []
afterEach(async () => {
  await stopAll(cores)
  cores = []
})

it('from.address of a LAN link is one where the linking device listens', async () => {
  const alice = await startCore('alice')
  cores.push(alice)
  await alice.core.createConversation({ kind: 'group', name: 'Family' })
  const off = alice.core.events.on('devices.linking', (p) => p.stage === 'confirm' && alice.core.devices.confirmLink(true))
  let shown: (l: string) => void = () => {}
  const code = new Promise<string>((r) => (shown = r))
  const newSide = linkAsNewDevice({ network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }, onLink: (l) => shown(l), onConfirmationCode: () => {}, confirm: async () => true })
  const [linked] = await Promise.all([newSide, alice.core.devices.link(await code)])
  off()
  const listening = alice.core.node.addresses()
  expect(listening.some((a) => a.startsWith(linked.from!.address!.split('/p2p/')[0]!))).toBe(true)
})
