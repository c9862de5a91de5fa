import { afterEach, describe, expect, it } from 'vitest'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'

describe('starting a core', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('starts at once although its relay is down (the reservation is not a reason to refuse to start)', async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    const deadRelay = '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
    const alice = await startCore('alice', { network: { relayReservations: [deadRelay] } })
    cores.push(alice)
    expect(alice.core.node.addresses().some((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
  })

  it('says so when its own listen address cannot be used', async () => {
    const busy = await startCore('busy')
    cores.push(busy)
    const port = busy.core.node.addresses()[0]!.split('/')[4]
    await expect(startCore('second', { network: { listen: [`/ip4/127.0.0.1/tcp/${port}`] } })).rejects.toThrow(/could not listen on .*port in use/)
  })
})
