/**
 * The operator's HTTP port, separate from the libp2p ports: `GET /healthz` (200 while serving, 503 while starting or
 * shutting down: load balancers and Docker's HEALTHCHECK stop sending work) and `GET /metrics` (Prometheus text).
 * With a `metricsToken` configured, /metrics requires `Authorization: Bearer <token>`; /healthz stays open and says
 * nothing beyond up or down.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface HttpServerOptions {
  host: string
  port: number
  registry: Registry
  healthy(): boolean
  metricsToken?: string | undefined
  onError(err: unknown): void
}

export interface RunningHttpServer {
  url: string
  close(): Promise<void>
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const expected = options.metricsToken === undefined ? undefined : Buffer.from(`Bearer ${options.metricsToken}`)
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/healthz') {
      const ok = options.healthy()
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }))
      return
    }
    if (path === '/metrics') {
      if (expected !== undefined) {
        const given = Buffer.from(req.headers.authorization ?? '')
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer' }).end()
          return
        }
      }
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType }).end(text)
        },
        (err: unknown) => {
          options.onError(err)
          res.writeHead(500).end()
        },
      )
      return
    }
    res.writeHead(404).end()
  })
  // Slow or idle HTTP clients must not hold sockets: the port is meant for a scraper and a health probe.
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  server.keepAliveTimeout = 5_000
  server.maxConnections = 64
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', options.onError)
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
