/** Network settings from the environment, shared by the CLI, the daemon and the app host (no heavy imports here). */

/** Relays or other always-on peers to connect to at start (HEARTH_BOOTSTRAP: comma-separated multiaddrs with /p2p/). */
export function bootstrapAddresses(): string[] {
  return addressList(process.env.HEARTH_BOOTSTRAP)
}

/** Relays to use besides those in the settings (HEARTH_RELAYS: comma-separated multiaddrs ending in /p2p/<PeerId>). */
export function relayAddresses(): string[] {
  return addressList(process.env.HEARTH_RELAYS)
}

function addressList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0)
}

export function mdnsEnabled(): boolean {
  return !['0', 'false', 'off', 'no'].includes((process.env.HEARTH_MDNS ?? '').toLowerCase())
}
