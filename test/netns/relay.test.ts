/**
 * Two homes that cannot reach each other, and a relay on the internet between them, all real separate hosts:
 *
 *  [alice] --lan-- [router a] --\                   /-- [router b] --lan-- [bob]
 *   192.168.1.2   192.168.1.1   wan 198.51.100.2 ... 198.51.100.3   192.168.1.1   192.168.1.2
 *                                      [relay] 198.51.100.10
 *
 * Each router masquerades its home onto the "internet" bridge and forwards nothing inward that the home did not
 * start; the internet has no route into either home, and both homes use the same private range (so the inviter's
 * LAN address in an invite points, from the other home, at the guest's own network). What is checked: bob joining
 * from his home with an invite alice made at hers (its time reported), live chat across the homes, and
 * store-and-forward through the relay alone (bob offline while alice writes, then alice offline when bob comes back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { openLab, type Lab } from '../helpers/netns.js'
import { NetnsHost, removeDirs, reportFigure, startNetnsRelay, tempDir, waitConverged, type NetnsRelay } from '../helpers/netns-hosts.js'

const CONVERGE_BOUND_MS = 30_000
const lab: Lab | undefined = openLab('relay')

/** NAT as a home router does it: masquerade outward, only replies come back in. */
const ROUTER_RULES = `
table ip nat {
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }
}
table inet filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
  }
}`

describe.skipIf(lab === undefined)('two homes behind NAT and a relay between them (network namespaces)', () => {
  const dirs: string[] = []
  const hosts: NetnsHost[] = []
  let relay: NetnsRelay
  let relayAddress = ''
  let conversation = ''
  let alice: NetnsHost
  let bob: NetnsHost
  let aDir = ''
  let bDir = ''

  const startHome = async (name: 'alice' | 'bob', dataDir: string): Promise<NetnsHost> => {
    const host = await NetnsHost.start(lab!, name, name, {
      mode: 'core',
      dataDir,
      options: { name, listen: ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'], relays: [relayAddress] },
    })
    hosts.push(host)
    // Reachable from outside only through a reservation on the relay.
    await waitFor(async () => (await host.request<{ addresses: string[] }>('addresses')).addresses.some((x) => x.includes('/p2p-circuit')), {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: `${name}'s reservation on the relay`,
    })
    return host
  }

  beforeAll(async () => {
    lab!.switch('net')
    lab!.host('relay')
    lab!.plug('relay', 'net', '198.51.100.10/24', { multicast: false })
    for (const [home, person, wan] of [['a', 'alice', '198.51.100.2'], ['b', 'bob', '198.51.100.3']] as const) {
      lab!.switch(`lan${home}`)
      lab!.host(`r${home}`)
      lab!.plug(`r${home}`, `lan${home}`, '192.168.1.1/24', { ifname: 'lan', multicast: false })
      lab!.plug(`r${home}`, 'net', `${wan}/24`, { ifname: 'wan', multicast: false })
      // /proc/sys/net is the namespace's own when written from inside it (and needs no procps for `sysctl`).
      lab!.exec(`r${home}`, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'])
      lab!.nft(`r${home}`, ROUTER_RULES)
      lab!.host(person)
      lab!.plug(person, `lan${home}`, '192.168.1.2/24', { multicast: false })
      lab!.ip(person, 'route', 'add', 'default', 'via', '192.168.1.1')
    }
    // The internet knows nothing of the homes' private range; the routers know nothing beyond the internet's subnet.
    expect(lab!.ip('relay', 'route', 'show')).not.toMatch(/192\.168|default/)
    for (const router of ['ra', 'rb']) expect(lab!.ip(router, 'route', 'show')).not.toMatch(/default/)

    const relayDir = await tempDir('relay')
    aDir = await tempDir('home-a')
    bDir = await tempDir('home-b')
    dirs.push(relayDir, aDir, bDir)
    relay = await startNetnsRelay(lab!, 'relay', relayDir)
    relayAddress = relay.multiaddrs.find((x) => x.startsWith('/ip4/198.51.100.10/tcp/4001/'))!
    expect(relayAddress).toBeDefined()
    ;[alice, bob] = await Promise.all([startHome('alice', aDir), startHome('bob', bDir)])
  })

  afterAll(async () => {
    await Promise.allSettled(hosts.map((h) => h.quit()))
    await relay?.stop()
    lab?.dispose()
    await removeDirs(dirs)
  })

  it('joins from the other home with an invite made at home, then chats live across the homes', async () => {
    conversation = (await alice.request<{ conversation: string }>('create', { name: 'Across town' })).conversation
    const { code } = await alice.request<{ code: string }>('invite', { conversation })
    const { ms } = await bob.request<{ ms: number }>('join', { code }, 90_000)
    reportFigure({ suite: 'relay', figure: 'join over the relay path', ms, target: 3_000 })
    process.stdout.write(`netns relay: join from the other home took ${ms} ms (target < 3000 ms)\n`)

    for (let i = 0; i < 5; i++) {
      await alice.send(conversation, `from alice's home ${i}`)
      await bob.send(conversation, `from bob's home ${i}`)
    }
    const converged = await waitConverged([alice, bob], conversation, 10, CONVERGE_BOUND_MS)
    // The two homes reach each other only through the relay, or directly after a hole punch through both NATs.
    const { addresses } = await bob.request<{ addresses: string[] }>('connections', { peer: alice.peerId })
    const path = addresses.length === 0 ? 'none' : addresses.every((x) => x.includes('/p2p-circuit')) ? 'relayed' : 'direct (hole punched)'
    reportFigure({ suite: 'relay', figure: 'live chat converged across homes', messages: 10, ms: converged, path, connections: addresses })
    expect(addresses.every((x) => x.includes('/p2p-circuit') || x.includes('198.51.100.'))).toBe(true)
    const [ha, hb] = await Promise.all([alice.history(conversation), bob.history(conversation)])
    expect(hb.map((m) => `${m.id} ${m.body}`)).toEqual(ha.map((m) => `${m.id} ${m.body}`))
  })

  it('delivers through the relay alone: bob offline while alice writes, alice offline when bob comes back', async () => {
    // Offline as a laptop whose lid closes: no goodbye to anyone (and quicker than a clean close, which waits on the
    // circuit's connections).
    await bob.kill9()
    const sent: string[] = []
    for (let i = 0; i < 12; i++) sent.push(await alice.send(conversation, `while you were away ${i}`))
    // "sent" is the relay's acknowledgement that it holds the envelope durably: only then may alice go away.
    await expect
      .poll(async () => (await alice.history(conversation)).filter((m) => sent.includes(m.id)).every((m) => m.state !== 'pending'), { timeout: 30_000, interval: 200 })
      .toBe(true)
    const expected = (await alice.history(conversation)).map((m) => `${m.id} ${m.body}`)
    await alice.kill9()

    const started = performance.now()
    bob = await startHome('bob', bDir)
    await waitConverged([bob], conversation, expected.length, CONVERGE_BOUND_MS)
    reportFigure({ suite: 'relay', figure: 'offline delivery from the relay after restart', messages: sent.length, ms: Math.round(performance.now() - started) })
    expect((await bob.history(conversation)).map((m) => `${m.id} ${m.body}`)).toEqual(expected)
    // Nobody from alice's home was there to hand them over.
    expect((await bob.request<{ peers: string[] }>('peers')).peers).not.toContain(alice.peerId)
  })
})
