import QRCode from 'qrcode'
import { useEffect, useId, useRef, useState } from 'react'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { fullWhen } from '../lib/time.js'
import { Dialog, ErrorNote } from './Dialog.js'

interface Invite {
  code: string
  expiresAt: number
  /** An SVG data URL, or null when the link is too long for a QR code. */
  qr: string | null
  /** What this link is: the dialog says it next to the link. */
  singleUse: boolean
}

/** How long a reusable link lasts: the person picks; a single-use link takes the core's default (7 days). */
const LIFETIMES = [
  { days: 1, label: '1 day' },
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
] as const
type Days = (typeof LIFETIMES)[number]['days']
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Makes an invite for the conversation and shows it as a link to copy and as a QR code to scan. A link works once
 * unless the person chooses a reusable one (groups only), which then needs an expiry they pick; the dialog says which
 * kind the shown link is. Either way a removed member cannot come back with it: only an admin's Add back does that.
 */
export function InviteDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose(): void }) {
  const api = useApi()
  const id = useId()
  const direct = conversation.kind === 'direct'
  const [reusable, setReusable] = useState(false)
  const [days, setDays] = useState<Days>(7)
  const singleUse = direct || !reusable
  // Each choice asks for a new link; an answer for an earlier choice is never shown as this one.
  const [wanted, setWanted] = useState(0)
  const [made, setMade] = useState<{ key: number; invite: Invite } | null>(null)
  const [failed, setFailed] = useState<{ key: number; error: string } | null>(null)
  const [copied, setCopied] = useState<string | null>(null)
  const linkRef = useRef<HTMLTextAreaElement>(null)

  useEffect(() => {
    let alive = true
    api
      .call('conversations.invite', { conversationId: conversation.id, singleUse, ...(singleUse ? {} : { expiresInMs: days * DAY_MS }) })
      .then(async (answer) => ({ code: answer.code, expiresAt: answer.expiresAt, qr: await qrDataUrl(answer.code), singleUse }))
      .then(
        (invite) => alive && setMade({ key: wanted, invite }),
        (err: unknown) => alive && setFailed({ key: wanted, error: errorText(err) }),
      )
    return () => {
      alive = false
    }
  }, [api, conversation.id, singleUse, days, wanted])
  const invite = made?.key === wanted ? made.invite : null
  const error = failed?.key === wanted ? failed.error : null
  const choose = (next: { reusable?: boolean; days?: Days }) => {
    setCopied(null)
    setWanted((w) => w + 1)
    if (next.reusable !== undefined) setReusable(next.reusable)
    if (next.days !== undefined) setDays(next.days)
  }

  const copy = () => {
    if (invite === null) return
    navigator.clipboard.writeText(invite.code).then(
      () => setCopied('Link copied. Send it to the person you invite.'),
      () => {
        // No clipboard permission: select the text so Ctrl+C / ⌘C works.
        linkRef.current?.select()
        setCopied('Copying was not allowed here: the link is selected, press Ctrl+C (⌘C on a Mac) to copy it.')
      },
    )
  }

  const until = invite === null || invite.expiresAt === 0 ? 'It does not expire.' : `It is valid until ${fullWhen(invite.expiresAt)}.`
  return (
    <Dialog
      title={`Invite to ${conversation.name}`}
      description={direct ? 'Send this link to one person, or let them scan the code. It works once.' : 'Send this link to the people you want in the group, or let them scan the code.'}
      onClose={onClose}
      wide
    >
      {!direct && (
        <fieldset className="invite-kind">
          <legend>Who can use the link</legend>
          <label className="check">
            <input type="radio" name={`${id}-kind`} checked={!reusable} onChange={() => choose({ reusable: false })} />
            One person: the link works once
          </label>
          <label className="check">
            <input type="radio" name={`${id}-kind`} checked={reusable} onChange={() => choose({ reusable: true })} />
            Several people: the link works until it expires
          </label>
          {reusable && (
            <div className="field">
              <label htmlFor={`${id}-expiry`}>Expires after</label>
              <select id={`${id}-expiry`} value={days} onChange={(event) => choose({ days: Number(event.target.value) as Days })}>
                {LIFETIMES.map((l) => (
                  <option key={l.days} value={l.days}>
                    {l.label}
                  </option>
                ))}
              </select>
            </div>
          )}
        </fieldset>
      )}
      <ErrorNote error={error} />
      {invite === null && error === null && <p role="status">Making an invite…</p>}
      {invite !== null && (
        <div className="invite">
          <div className="stack">
            <div className="field">
              <label htmlFor={`${id}-link`}>Invite link</label>
              <textarea id={`${id}-link`} ref={linkRef} className="invite-link" readOnly value={invite.code} rows={4} />
            </div>
            <p className="invite-kind-note" data-kind={invite.singleUse ? 'single-use' : 'reusable'}>
              {invite.singleUse
                ? `This link works once: the first person who joins with it uses it up. ${until}`
                : `Anyone who has this link can join until it expires, so send it only to people you want in the group. ${until}`}
            </p>
            <div className="button-row start">
              <button type="button" className="primary" onClick={copy}>
                Copy link
              </button>
            </div>
            <p className="muted small" role="status">
              {copied}
            </p>
            <p className="muted small">You need to be online when they join. Someone removed from the group cannot come back with a link.</p>
          </div>
          {invite.qr === null ? (
            <p className="muted small">This link is too long for a QR code; send the link instead.</p>
          ) : (
            <img className="qr" src={invite.qr} alt={`QR code of the invite to ${conversation.name}`} width={220} height={220} />
          )}
        </div>
      )}
    </Dialog>
  )
}

async function qrDataUrl(text: string): Promise<string | null> {
  try {
    const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } })
    return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
  } catch {
    return null
  }
}
