/**
 * Two homes that cannot reach each other, and a relay on the internet between them, all real separate hosts:
 *
 *     [a] --lan-- [router a] --\                      /-- [router b] --lan-- [b]
 *   192.168.1.2   192.168.1.1   wan 198.51.100.2 ... 198.51.100.3   192.168.1.1   192.168.1.2
 *                                      [relay] 198.51.100.10
 *
 * Each router masquerades its home onto the "internet" bridge and forwards nothing inward that the home did not
 * start; the internet has no route into either home, and both homes use the same private range (so the inviter's
 * LAN address in an invite points, from the other home, at the guest's own network). What is checked: a join from
 * home b with an invite made in home a (its time reported), live chat across the homes, and store-and-forward through
 * the relay alone (b offline while a writes, then a offline when b comes back).
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
  let a: NetnsHost
  let b: NetnsHost
  let aDir = ''
  let bDir = ''

  const startHome = async (name: 'a' | 'b', dataDir: string): Promise<NetnsHost> => {
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
    for (const [home, wan] of [['a', '198.51.100.2'], ['b', '198.51.100.3']] as const) {
      lab!.switch(`lan${home}`)
      lab!.host(`r${home}`)
      lab!.plug(`r${home}`, `lan${home}`, '192.168.1.1/24', { ifname: 'lan', multicast: false })
      lab!.plug(`r${home}`, 'net', `${wan}/24`, { ifname: 'wan', multicast: false })
      // /proc/sys/net is the namespace's own when written from inside it (and needs no procps for `sysctl`).
      lab!.exec(`r${home}`, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'])
      lab!.nft(`r${home}`, ROUTER_RULES)
      lab!.host(home)
      lab!.plug(home, `lan${home}`, '192.168.1.2/24', { multicast: false })
      lab!.ip(home, 'route', 'add', 'default', 'via', '192.168.1.1')
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
    ;[a, b] = await Promise.all([startHome('a', aDir), startHome('b', bDir)])
  })

  afterAll(async () => {
    await Promise.allSettled(hosts.map((h) => h.quit()))
    await relay?.stop()
    lab?.dispose()
    await removeDirs(dirs)
  })

  it('joins from the other home with an invite made at home, then chats live across the homes', async () => {
    conversation = (await a.request<{ conversation: string }>('create', { name: 'Across town' })).conversation
    const { code } = await a.request<{ code: string }>('invite', { conversation })
    const { ms } = await b.request<{ ms: number }>('join', { code }, 90_000)
    reportFigure({ suite: 'relay', figure: 'join over the relay path', ms, target: 3_000 })
    process.stdout.write(`netns relay: join from the other home took ${ms} ms (target < 3000 ms)\n`)

    for (let i = 0; i < 5; i++) {
      await a.send(conversation, `from home a ${i}`)
      await b.send(conversation, `from home b ${i}`)
    }
    const converged = await waitConverged([a, b], conversation, 10, CONVERGE_BOUND_MS)
    // The two homes reach each other only through the relay, or directly after a hole punch through both NATs.
    const { addresses } = await b.request<{ addresses: string[] }>('connections', { peer: a.peerId })
    const path = addresses.length === 0 ? 'none' : addresses.every((x) => x.includes('/p2p-circuit')) ? 'relayed' : 'direct (hole punched)'
    reportFigure({ suite: 'relay', figure: 'live chat converged across homes', messages: 10, ms: converged, path, connections: addresses })
    expect(addresses.every((x) => x.includes('/p2p-circuit') || x.includes('198.51.100.'))).toBe(true)
    const [ha, hb] = await Promise.all([a.history(conversation), b.history(conversation)])
    expect(hb.map((m) => `${m.id} ${m.body}`)).toEqual(ha.map((m) => `${m.id} ${m.body}`))
  })

  it('delivers through the relay alone: b offline while a writes, a offline when b comes back', async () => {
    // Offline as a laptop whose lid closes: no goodbye to anyone (and quicker than a clean close, which waits on the
    // circuit's connections).
    await b.kill9()
    const sent: string[] = []
    for (let i = 0; i < 12; i++) sent.push(await a.send(conversation, `while you were away ${i}`))
    // "sent" is the relay's acknowledgement that it holds the envelope durably: only then may a go away.
    await expect
      .poll(async () => (await a.history(conversation)).filter((m) => sent.includes(m.id)).every((m) => m.state !== 'pending'), { timeout: 30_000, interval: 200 })
      .toBe(true)
    const expected = (await a.history(conversation)).map((m) => `${m.id} ${m.body}`)
    await a.kill9()

    const started = performance.now()
    b = await startHome('b', bDir)
    await waitConverged([b], conversation, expected.length, CONVERGE_BOUND_MS)
    reportFigure({ suite: 'relay', figure: 'offline delivery from the relay after restart', messages: sent.length, ms: Math.round(performance.now() - started) })
    expect((await b.history(conversation)).map((m) => `${m.id} ${m.body}`)).toEqual(expected)
    // Nobody from home a was there to hand them over.
    expect((await b.request<{ peers: string[] }>('peers')).peers).not.toContain(a.peerId)
  })
})
