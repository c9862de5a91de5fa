import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { OPTION_HELP, OPTION_KEYS, envName, flagName, loadConfig, maskedConfig, validateConfig } from './config.js'

describe('relay configuration', () => {
  const dirs: string[] = []
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  async function file(content: unknown): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-relay-config-'))
    dirs.push(dir)
    const path = join(dir, 'relay.json')
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
    return path
  }

  it('has safe defaults for every option, and help for each', () => {
    const c = validateConfig({})
    expect(c.maxEnvelopeBytes).toBe(64 * 1024)
    expect(c.retention).toBe(30 * 24 * 3600 * 1000)
    expect(c.listen).toEqual(['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws'])
    expect(c.httpHost).toBe('127.0.0.1')
    expect(c.metricsToken).toBeUndefined()
    for (const key of OPTION_KEYS) expect(OPTION_HELP[key].length).toBeGreaterThan(10)
  })

  it('has blob storage on with the documented defaults, and refuses blob limits that do not nest', () => {
    const c = validateConfig({})
    expect(c.blobs).toBe(true)
    expect(c.blobMaxBytes).toBe(110 * 1024 * 1024)
    expect(c.blobMailboxMaxBytes).toBe(1024 ** 3)
    expect(c.blobMaxStoredBytes).toBe(16 * 1024 ** 3)
    expect(c.blobRetention).toBe(30 * 24 * 3600 * 1000)
    expect(c.blobIncompleteTtl).toBe(3 * 24 * 3600 * 1000)
    expect(validateConfig({ blobs: 'false', blobMaxBytes: '20MiB', blobMailboxMaxBytes: '20MiB', blobMaxStoredBytes: '1GiB' })).toMatchObject({ blobs: false })
    expect(() => validateConfig({ blobMaxBytes: '2GiB', blobMailboxMaxBytes: '1GiB' })).toThrow(/blobMailboxMaxBytes: must be at least blobMaxBytes/)
    expect(() => validateConfig({ blobMailboxMaxBytes: '32GiB' })).toThrow(/blobMaxStoredBytes: must be at least blobMailboxMaxBytes/)
  })

  it('spells each option three ways', () => {
    expect(envName('mailboxMaxBytes')).toBe('HEARTH_RELAY_MAILBOX_MAX_BYTES')
    expect(flagName('mailboxMaxBytes')).toBe('--mailbox-max-bytes')
  })

  it('reads sizes, durations, lists and booleans written by people', () => {
    const c = validateConfig({ maxStoredBytes: '2GiB', mailboxMaxBytes: '500MB', retention: '7d', sweepInterval: '90s', requestTimeout: 1500, listen: '/ip4/1.2.3.4/tcp/1, /ip4/1.2.3.4/tcp/2/ws', dht: 'false' })
    expect(c.maxStoredBytes).toBe(2 * 1024 ** 3)
    expect(c.mailboxMaxBytes).toBe(500_000_000)
    expect(c.retention).toBe(7 * 24 * 3600 * 1000)
    expect(c.sweepInterval).toBe(90_000)
    expect(c.requestTimeout).toBe(1500)
    expect(c.listen).toEqual(['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/tcp/2/ws'])
    expect(c.dht).toBe(false)
  })

  it('takes defaults < file < environment < flags', async () => {
    const path = await file({ mailboxMaxEnvelopes: 10, requestsPerSecond: 11, requestBurst: 100, logLevel: 'warn' })
    const c = loadConfig({
      file: path,
      env: { HEARTH_RELAY_REQUESTS_PER_SECOND: '12', HEARTH_RELAY_LOG_LEVEL: 'debug', UNRELATED: 'x' },
      flags: { logLevel: 'error' },
    })
    expect(c.mailboxMaxEnvelopes).toBe(10)
    expect(c.requestsPerSecond).toBe(12)
    expect(c.logLevel).toBe('error')
    // The file may also come from the environment.
    expect(loadConfig({ env: { HEARTH_RELAY_CONFIG: path } }).mailboxMaxEnvelopes).toBe(10)
  })

  it('refuses bad values with one readable line each, naming where they came from', async () => {
    const path = await file({ retention: 'forever', colour: 'blue' })
    let message = ''
    try {
      loadConfig({ file: path, env: { HEARTH_RELAY_MAX_ENVELOPE_BYTES: '1MiB' }, flags: { httpPort: '70000' } })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain('invalid relay configuration')
    expect(message).toContain('unknown option(s) "colour"')
    expect(message).toMatch(/retention \(from .*relay\.json\): expected a duration/)
    expect(message).toContain('maxEnvelopeBytes (from HEARTH_RELAY_MAX_ENVELOPE_BYTES): must be at most 64KiB')
    expect(message).toContain('httpPort (from --http-port)')
    expect(() => loadConfig({ file: join(tmpdir(), 'does-not-exist.json') })).toThrow(/cannot read the config file/)
    expect(() => loadConfig({ file: path.replace('relay.json', 'nope.json') })).toThrow(/cannot read/)
  })

  it('checks options against each other', () => {
    expect(() => validateConfig({ mailboxMaxBytes: '1MiB', maxStoredBytes: '2MiB', maxEnvelopeBytes: '64KiB' })).not.toThrow()
    expect(() => validateConfig({ mailboxMaxBytes: '10GiB', maxStoredBytes: '1GiB' })).toThrow(/maxStoredBytes: must be at least mailboxMaxBytes/)
    expect(() => validateConfig({ requestsPerSecond: 100, requestBurst: 10 })).toThrow(/requestBurst/)
    expect(() => validateConfig({ listen: 'localhost:4001' })).toThrow(/multiaddr/)
    // Bounds in the units an operator writes, not zod's ">=60000".
    expect(() => validateConfig({ retention: 5 })).toThrow(/retention: must be at least 1m/)
    expect(() => validateConfig({ sweepInterval: '2d' })).toThrow(/sweepInterval: must be at most 1d/)
    expect(() => validateConfig({ maxStoredBytes: 1000 })).toThrow(/maxStoredBytes: must be at least 1MiB/)
  })

  it('never shows the metrics token: masked in the logged config and absent from errors', () => {
    const token = 'super-secret-token-value'
    expect(maskedConfig(validateConfig({ metricsToken: token })).metricsToken).toBe('***')
    expect(JSON.stringify(maskedConfig(validateConfig({ metricsToken: token })))).not.toContain(token)
    let message = ''
    try {
      loadConfig({ env: { HEARTH_RELAY_METRICS_TOKEN: 'short' } })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain('metricsToken (from HEARTH_RELAY_METRICS_TOKEN): invalid value')
    expect(message).not.toContain('short')
  })
})
