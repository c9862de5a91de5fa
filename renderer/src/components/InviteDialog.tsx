import QRCode from 'qrcode'
import { useCallback, useEffect, useId, useRef, useState } from 'react'
import type { ConversationSummary, InviteView } from '../../../node/src/api/types.js'
import { groupForReading } from '../../../node/src/conversation/short-invite.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { fullWhen } from '../lib/time.js'
import { Dialog, ErrorNote } from './Dialog.js'

/** How long a reusable invite lasts: the person picks; a single-use one takes the core's default (7 days). */
const LIFETIMES = [
  { days: 1, label: '1 day' },
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
] as const
type Days = (typeof LIFETIMES)[number]['days']
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * The conversation's active invites, each a short link to read out, type, copy or scan, with Revoke; and a way to
 * make a new one. Opening the dialog makes an invite only when there is none this device can show. An invite works
 * once unless the person chooses a reusable one (groups only), which then needs an expiry they pick. Either way a
 * removed member cannot come back with it: only an admin's Add back does that.
 */
export function InviteDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose(): void }) {
  const api = useApi()
  const id = useId()
  const direct = conversation.kind === 'direct'
  const [invites, setInvites] = useState<InviteView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [status, setStatus] = useState<string | null>(null)
  const [shown, setShown] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [reusable, setReusable] = useState(false)
  const [days, setDays] = useState<Days>(7)
  const opened = useRef(false)

  const load = useCallback(async () => {
    const list = await api.call('conversations.invites', { conversationId: conversation.id })
    setInvites(list)
    return list
  }, [api, conversation.id])

  const make = useCallback(
    async (singleUse: boolean, lifetimeDays: Days) => {
      const made = await api.call('conversations.invite', {
        conversationId: conversation.id,
        singleUse,
        ...(singleUse ? {} : { expiresInMs: lifetimeDays * DAY_MS }),
      })
      await load()
      setShown(made.inviteId)
    },
    [api, conversation.id, load],
  )

  useEffect(() => {
    // Once per opening: an invite is made only when none this device made can still be shown.
    if (opened.current) return
    opened.current = true
    load()
      .then(async (list) => {
        const usable = list.filter((i) => i.shortLink !== null || i.code !== null)
        if (usable.length === 0) await make(true, 7)
        else setShown(usable[0]!.id)
      })
      .catch((err: unknown) => setError(errorText(err)))
  }, [load, make])

  const act = (task: () => Promise<void>) => {
    setBusy(true)
    setError(null)
    task().then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }
  const copy = (text: string, what: string) => {
    navigator.clipboard.writeText(text).then(
      () => setStatus(`${what} copied. Send it to the person you invite.`),
      () => setStatus(`Copying was not allowed here: select the ${what.toLowerCase()} and press Ctrl+C (⌘C on a Mac).`),
    )
  }
  const revoke = (invite: InviteView) =>
    act(async () => {
      await api.call('conversations.revokeInvite', { conversationId: conversation.id, inviteId: invite.id })
      await load()
      setStatus('Invite revoked: nobody can join with it any more.')
    })
  const showing = invites?.find((i) => i.id === shown && i.shortLink !== null) ?? null

  return (
    <Dialog
      title={`Invite to ${conversation.name}`}
      description={
        direct
          ? 'Read the code out, let them scan it, or send the link. It works once.'
          : 'Read a code out, let them scan it, or send the link to the people you want in the group.'
      }
      onClose={onClose}
      wide
    >
      <ErrorNote error={error} />
      {invites === null && error === null && <p role="status">Loading invites…</p>}
      {invites !== null && (
        <div className="invite">
          <div className="stack">
            <h3 className="invite-heading" id={`${id}-active`}>
              Active invites
            </h3>
            {invites.length === 0 ? (
              <p className="muted small">No invite can be used right now. Make a new one below.</p>
            ) : (
              <ul className="invite-list" aria-labelledby={`${id}-active`}>
                {invites.map((invite) => (
                  <InviteRow
                    key={invite.id}
                    invite={invite}
                    shown={invite.id === showing?.id}
                    busy={busy}
                    onCopy={copy}
                    onShow={() => setShown(invite.id)}
                    onRevoke={() => revoke(invite)}
                  />
                ))}
              </ul>
            )}
            <p className="muted small" role="status">
              {status}
            </p>
            <NewInvite
              idBase={id}
              direct={direct}
              reusable={reusable}
              days={days}
              busy={busy}
              onKind={setReusable}
              onDays={setDays}
              onMake={() => act(() => make(direct || !reusable, days))}
            />
            <p className="muted small">Someone removed from the group cannot come back with an invite.</p>
          </div>
          {showing !== null && (
            <div className="stack invite-shown">
              <QrOf link={showing.shortLink!} name={conversation.name} />
              <div className="field">
                <label htmlFor={`${id}-link`}>Invite link</label>
                <input id={`${id}-link`} className="invite-link" readOnly value={showing.shortLink!} onFocus={(e) => e.target.select()} />
              </div>
            </div>
          )}
        </div>
      )}
    </Dialog>
  )
}

function InviteRow(props: {
  invite: InviteView
  shown: boolean
  busy: boolean
  onCopy(text: string, what: string): void
  onShow(): void
  onRevoke(): void
}) {
  const { invite } = props
  const id = useId()
  const until = invite.expiresAt === 0 ? 'does not expire' : `valid until ${fullWhen(invite.expiresAt)}`
  const kind = invite.singleUse ? 'Works once' : `Works for several people (used ${invite.uses} ${invite.uses === 1 ? 'time' : 'times'})`
  return (
    <li className="invite-item" aria-labelledby={`${id}-code`} data-kind={invite.singleUse ? 'single-use' : 'reusable'}>
      {invite.shortLink === null ? (
        <p id={`${id}-code`} className="invite-code muted">
          Made on another device
        </p>
      ) : (
        <p id={`${id}-code`} className="invite-code">
          {groupForReading(invite.shortLink)}
        </p>
      )}
      <p className="muted small">
        {kind}, {until}.
      </p>
      <div className="button-row start">
        {invite.shortLink !== null && (
          <>
            <button type="button" className="primary" onClick={() => props.onCopy(invite.shortLink!, 'Link')}>
              Copy link
            </button>
            <button type="button" onClick={props.onShow} aria-pressed={props.shown}>
              Show QR code
            </button>
          </>
        )}
        {invite.code !== null && (
          <button type="button" onClick={() => props.onCopy(invite.code!, 'Long link')} title="For someone who is not on your network">
            Copy long link
          </button>
        )}
        <button type="button" className="danger" disabled={props.busy} onClick={props.onRevoke}>
          Revoke
        </button>
      </div>
    </li>
  )
}

function NewInvite(props: {
  idBase: string
  direct: boolean
  reusable: boolean
  days: Days
  busy: boolean
  onKind(reusable: boolean): void
  onDays(days: Days): void
  onMake(): void
}) {
  const { idBase: id } = props
  return (
    <div className="stack">
      {!props.direct && (
        <fieldset className="invite-kind">
          <legend>New invite: who can use it</legend>
          <label className="check">
            <input type="radio" name={`${id}-kind`} checked={!props.reusable} onChange={() => props.onKind(false)} />
            One person: it works once
          </label>
          <label className="check">
            <input type="radio" name={`${id}-kind`} checked={props.reusable} onChange={() => props.onKind(true)} />
            Several people: it works until it expires
          </label>
          {props.reusable && (
            <div className="field">
              <label htmlFor={`${id}-expiry`}>Expires after</label>
              <select id={`${id}-expiry`} value={props.days} onChange={(event) => props.onDays(Number(event.target.value) as Days)}>
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
      <div className="button-row start">
        <button type="button" disabled={props.busy} onClick={props.onMake}>
          New invite
        </button>
      </div>
    </div>
  )
}

function QrOf({ link, name }: { link: string; name: string }) {
  const [qr, setQr] = useState<string | null>(null)
  useEffect(() => {
    let alive = true
    void qrDataUrl(link).then((url) => alive && setQr(url))
    return () => {
      alive = false
    }
  }, [link])
  if (qr === null) return null
  return <img className="qr" src={qr} alt={`QR code of the invite to ${name}: ${groupForReading(link)}`} width={220} height={220} />
}

/**
 * The QR code of a short link, upper case so all but the `@` fits QR's alphanumeric mode: a small, sparse code a
 * phone or webcam reads at arm's length. Links and codes are case-insensitive, so it opens the same invite.
 */
export async function qrDataUrl(link: string): Promise<string | null> {
  try {
    const svg = await QRCode.toString(link.toUpperCase(), { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } })
    return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
  } catch {
    return null
  }
}
