import { sendMessage, shardOf } from '../../../../../crdt/src/index.js'
import { actorOf } from '../../actor.js'
import { newContentKey, sealText } from '../content-keys.js'
import { sealFiles } from '../media-box.js'
import type { ChangePlan, MessageIntent, PlanContext } from './intent.js'
import { checkMentions } from './text.js'

/**
 * Photos and files with a caption (perhaps empty): a text message whose content key also seals the files' ids and
 * keys (media-box.ts), so deleting it forgets them with the caption (docs/adr/0028). The blobs are already stored
 * encrypted on this device (blobs/blob-store.ts) when this runs.
 */
export async function planMedia(ctx: PlanContext, intent: Extract<MessageIntent, { kind: 'media' }>): Promise<ChangePlan> {
  const replyTo = intent.replyTo === undefined ? undefined : await ctx.row(intent.replyTo)
  const mentions = checkMentions(ctx, intent.mentions ?? [])
  const id = ctx.newMessageId()
  const seq = ctx.ownMessages
  const hlc = ctx.now()
  const contentKey = newContentKey()
  const box = sealText(contentKey, ctx.rt.id, id, intent.body)
  const media = sealFiles(contentKey, ctx.rt.id, id, intent.files)
  return {
    epoch: ctx.rt.log.currentEpoch,
    shard: shardOf(seq),
    message: id,
    author: null,
    creates: true,
    contentKey,
    change: (doc, actor, onto) => {
      const reply = replyTo === undefined ? undefined : { author: actorOf(replyTo.device), id: replyTo.id as never }
      return sendMessage(doc, actor, { id: id as never, body: '', box, media, hlc, seq, replyTo: reply, mentions }, onto)
    },
  }
}


