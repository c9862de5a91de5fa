import type { Context } from '../context.js'
import { settleWithin, withSession } from '../context.js'
import { formatPeers } from '../format.js'

/** How long a command without a daemon gives remembered peers to answer before listing who it reached. */
const LOCAL_REACH_MS = 1_500

export async function runPeers(ctx: Context): Promise<void> {
  await withSession(ctx, async (session) => {
    const running = session.mode === 'daemon'
    if (session.local !== undefined) await settleWithin(session.local.reachingPeers, LOCAL_REACH_MS)
    const status = await session.call('network.status')
    ctx.print(() => formatPeers(status.peers, status.relays), { running, peers: status.peers, relays: status.relays })
    if (!running) {
      ctx.note(
        `note: no daemon is running for ${ctx.dataDir}: these are the devices this command reached in its own short run (\`hearth start\` keeps this device connected).`,
      )
    }
  })
}
