/**
 * `npm start` while Hearth already runs in browser mode for this data dir: rather than only saying so, ask the running
 * instance for a fresh launch address (POST /launch-url with the token from api.json, see web-server.ts) and open it.
 * A `hearth start` daemon has no UI and answers no such thing: then there is nothing to open.
 */
import { request } from 'node:http'
import { readApiFile } from '../cli/state-files.js'

const TIMEOUT_MS = 3_000
const MAX_ANSWER_BYTES = 1024
/** What a running instance may answer; anything else (another program on that port) is ignored. */
const LAUNCH_URL = /^http:\/\/127\.0\.0\.1:(\d{1,5})\/#launch=[A-Za-z0-9_-]{43}$/

/** A fresh launch address from the browser mode running for `dataDir`, or undefined when there is none. */
export async function launchUrlFromRunning(dataDir: string): Promise<string | undefined> {
  const file = await readApiFile(dataDir)
  if (file === undefined) return undefined
  const port = Number(new URL(file.url).port)
  const answer = await post(port, file.token)
  if (answer === undefined) return undefined
  let url: unknown
  try {
    url = (JSON.parse(answer) as { url?: unknown }).url
  } catch {
    return undefined
  }
  if (typeof url !== 'string') return undefined
  const match = LAUNCH_URL.exec(url)
  // The address must be the very server we asked: a launch code for another port would send the person elsewhere.
  return match !== null && Number(match[1]) === port ? url : undefined
}

function post(port: number, token: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/launch-url', method: 'POST', headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` }, timeout: TIMEOUT_MS },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          text += d
          if (text.length > MAX_ANSWER_BYTES) res.destroy()
        })
        res.on('end', () => resolve(res.statusCode === 200 ? text : undefined))
        res.on('error', () => resolve(undefined))
        res.on('close', () => resolve(undefined))
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}
