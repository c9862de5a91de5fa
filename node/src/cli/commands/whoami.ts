import type { Context } from '../context.js'
import { withSession } from '../context.js'
import { formatWhoami } from '../format.js'

export async function runWhoami(ctx: Context): Promise<void> {
  await withSession(ctx, async (session) => {
    const me = await session.call('identity.whoami')
    // In-process, the addresses are those of this short-lived command, not where the device can be reached.
    const running = session.mode === 'daemon'
    ctx.print(() => formatWhoami(me, running), { ...me, running, addresses: running ? me.addresses : [] })
  })
}
