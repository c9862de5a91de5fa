/**
 * Linking a new device to a running test core, with real pairing: both sides compare the code and accept. The new
 * device's identity and conversations come back for the test to start a core with (startCore + importLinked).
 */
import { linkAsNewDevice, type LinkedDevice } from '../../node/src/core/devices/new-device.js'
import type { Core } from '../../node/src/core/core.js'

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
