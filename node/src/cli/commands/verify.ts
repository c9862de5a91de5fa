/**
 * `hearth verify <conversation> <member>`: the safety number with a member, as 12 groups of five digits, to compare
 * in person or on a call (docs/adr/0031-safety-numbers.md). `--mark` records that the digits matched; `--code` takes
 * the code the other person's Hearth printed (or its QR text) and marks them verified only when it matches;
 * `--unmark` forgets the mark.
 */
import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'
import { resolveMember, UsageError } from '../args.js'

export interface VerifyOptions {
  mark?: boolean
  code?: string
  unmark?: boolean
}

/** 60 digits as three rows of four groups of five, the layout Signal shows, so both screens read alike. */
export function formatSafetyNumber(digits: string): string {
  const groups = digits.match(/[0-9]{5}/g) ?? []
  const rows: string[] = []
  for (let i = 0; i < groups.length; i += 4) rows.push('  ' + groups.slice(i, i + 4).join(' '))
  return rows.join('\n')
}

export async function runVerify(ctx: Context, ref: string, memberRef: string, opts: VerifyOptions): Promise<void> {
  const actions = [opts.mark === true, opts.code !== undefined, opts.unmark === true].filter(Boolean).length
  if (actions > 1) throw new UsageError('use one of --mark, --code and --unmark')
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    const member = resolveMember(await session.call('conversations.members', { conversationId: conversation.id }), memberRef)
    const account = member.account
    if (opts.unmark === true) await session.call('people.unverify', { account })
    else if (opts.mark === true) await session.call('people.verify', { account })
    else if (opts.code !== undefined) await session.call('people.verify', { account, scanned: opts.code.trim() })
    const n = await session.call('people.safetyNumber', { account })
    const name = member.displayName
    ctx.print(
      () =>
        [
          `Safety number with ${name} (${n.verified ? 'verified' : 'not verified'}):`,
          '',
          formatSafetyNumber(n.digits),
          '',
          n.verified
            ? `You have verified ${name} on this device.`
            : `Compare it with ${name}, in person or on a call. If every digit matches: hearth verify ${JSON.stringify(conversation.name)} ${JSON.stringify(name)} --mark`,
          `Your code, for ${name} to check with --code: ${n.qr}`,
        ].join('\n'),
      { conversation: conversation.id, account, displayName: name, ...n },
    )
  })
}
