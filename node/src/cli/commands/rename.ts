import type { Context } from '../context.js'
import { withSession } from '../context.js'

export async function runRename(ctx: Context, words: string[]): Promise<void> {
  await withSession(ctx, async (session) => {
    const settings = await session.call('settings.update', { displayName: words.join(' ') })
    ctx.print(`You are now ${settings.displayName}. Your conversations learn the new name as members get in touch.`, {
      displayName: settings.displayName,
    })
  })
}
