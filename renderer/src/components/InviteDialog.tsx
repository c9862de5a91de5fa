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
}

/** Makes an invite for the conversation and shows it as a link to copy and as a QR code to scan. */
export function InviteDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose(): void }) {
  const api = useApi()
  const id = useId()
  const [invite, setInvite] = useState<Invite | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [copied, setCopied] = useState<string | null>(null)
  const linkRef = useRef<HTMLTextAreaElement>(null)

  useEffect(() => {
    let alive = true
    api
      .call('conversations.invite', { conversationId: conversation.id })
      .then(async (made) => ({ code: made.code, expiresAt: made.expiresAt, qr: await qrDataUrl(made.code) }))
      .then(
        (made) => alive && setInvite(made),
        (err: unknown) => alive && setError(errorText(err)),
      )
    return () => {
      alive = false
    }
  }, [api, conversation.id])

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

  const direct = conversation.kind === 'direct'
  return (
    <Dialog
      title={`Invite to ${conversation.name}`}
      description={
        direct
          ? 'Send this link to one person, or let them scan the code. It works once.'
          : 'Send this link to the people you want in the group, or let them scan the code.'
      }
      onClose={onClose}
      wide
    >
      <ErrorNote error={error} />
      {invite === null && error === null && <p role="status">Making an invite…</p>}
      {invite !== null && (
        <div className="invite">
          <div className="stack">
            <div className="field">
              <label htmlFor={`${id}-link`}>Invite link</label>
              <textarea id={`${id}-link`} ref={linkRef} className="invite-link" readOnly value={invite.code} rows={4} />
            </div>
            <div className="button-row start">
              <button type="button" className="primary" onClick={copy}>
                Copy link
              </button>
            </div>
            <p className="muted small" role="status">
              {copied}
            </p>
            <p className="muted small">
              {invite.expiresAt === 0 ? 'This invite does not expire.' : `Valid until ${fullWhen(invite.expiresAt)}.`} You need to be
              online when they join.
            </p>
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
