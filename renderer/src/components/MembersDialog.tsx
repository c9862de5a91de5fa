import { useState } from 'react'
import type { ConversationSummary, MemberView, RemovedMemberView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { useMembers } from '../hooks/useMembers.js'
import { useRemovedMembers } from '../hooks/useRemovedMembers.js'
import { Dialog, ErrorNote } from './Dialog.js'
import { VerifyDialog } from './VerifyDialog.js'

/** What is being confirmed: a removal, or adding a removed person back. Each has its own words and button. */
type Confirming = { action: 'remove'; person: MemberView } | { action: 'addBack'; person: RemovedMemberView }

/**
 * Who is in the conversation and whether their devices are online; for admins, making someone admin or member,
 * removing someone, and adding a removed person back (the only way back: invites never readmit a removed account).
 * The lists follow membership changes live.
 */
export function MembersDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose(): void }) {
  const api = useApi()
  const members = useMembers(api, conversation.id)
  const admin = conversation.role === 'admin' && !conversation.removed
  const removed = useRemovedMembers(api, conversation.id, admin && conversation.kind === 'group')
  const [error, setError] = useState<string | null>(null)
  const [confirming, setConfirming] = useState<Confirming | null>(null)
  const [busy, setBusy] = useState(false)
  const [verifying, setVerifying] = useState<MemberView | null>(null)

  const act = (run: () => Promise<unknown>) => {
    setBusy(true)
    setError(null)
    run().then(
      () => {
        setBusy(false)
        setConfirming(null)
      },
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }
  const remove = (member: MemberView) => act(() => api.call('conversations.remove', { conversationId: conversation.id, account: member.account }))
  const addBack = (person: RemovedMemberView) => act(() => api.call('conversations.addBack', { conversationId: conversation.id, account: person.account }))
  const setRole = (member: MemberView, role: MemberView['role']) =>
    act(() => api.call('conversations.setRole', { conversationId: conversation.id, account: member.account, role }))

  const list = members.list
  const admins = list?.filter((m) => m.role === 'admin').length ?? 0
  const formerMembers = removed.list ?? []
  return (
    <Dialog title={`Members of ${conversation.name}`} onClose={onClose}>
      <ErrorNote error={error ?? members.error ?? removed.error} />
      {list === null && members.error === null && <p role="status">Loading members…</p>}
      {list !== null && (
        <ul className="member-list">
          {list.map((m) => {
            const online = m.devices.some((d) => d.online)
            return (
              <li key={m.account} className="member">
                <span className={`presence ${online ? 'online' : 'offline'}`} aria-hidden="true" />
                <span className="member-name">
                  {m.displayName}
                  {m.me && ' (you)'}
                </span>
                <span className="muted small">
                  {m.role === 'admin' ? 'Admin' : 'Member'} · {online ? 'online' : 'offline'}
                  {m.verified === true && ' · ✓ verified'}
                  {m.verifiedKeyChanged === true && ' · key changed since you verified'}
                  {m.verifiedDevicesChanged === true && ' · needs re-verification: devices changed'}
                </span>
                {!m.me && (
                  <button type="button" className="link-button" onClick={() => setVerifying(m)} aria-label={`Verify: ${m.displayName}`}>
                    Verify
                  </button>
                )}
                {admin && conversation.kind === 'group' && !m.me && (
                  <button
                    type="button"
                    className="link-button"
                    disabled={busy}
                    onClick={() => setRole(m, m.role === 'admin' ? 'member' : 'admin')}
                    // The visible words lead the accessible name (WCAG 2.5.3); the person's name tells the rows apart.
                    aria-label={`${m.role === 'admin' ? 'Make member' : 'Make admin'}: ${m.displayName}`}
                  >
                    {m.role === 'admin' ? 'Make member' : 'Make admin'}
                  </button>
                )}
                {admin && m.me && admins > 1 && (
                  <button type="button" className="link-button" disabled={busy} onClick={() => setRole(m, 'member')}>
                    Step down as admin
                  </button>
                )}
                {admin && !m.me && (
                  <button type="button" className="danger-link" onClick={() => setConfirming({ action: 'remove', person: m })} aria-label={`Remove ${m.displayName}`}>
                    Remove
                  </button>
                )}
              </li>
            )
          })}
        </ul>
      )}
      {formerMembers.length > 0 && (
        <section aria-labelledby={`removed-${conversation.id}`}>
          <h3 id={`removed-${conversation.id}`} className="small-heading">
            Removed
          </h3>
          <ul className="member-list">
            {formerMembers.map((p) => (
              <li key={p.account} className="member">
                <span className="presence offline" aria-hidden="true" />
                <span className="member-name">{p.displayName}</span>
                <span className="muted small">{p.left === true ? 'Left' : 'Removed'}</span>
                <button
                  type="button"
                  className="link-button"
                  disabled={busy}
                  onClick={() => setConfirming({ action: 'addBack', person: p })}
                  aria-label={`Add back: ${p.displayName}`}
                >
                  Add back
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {admin && <p className="muted small">Admins can invite people, remove members, add removed people back and choose other admins.</p>}
      {confirming?.action === 'remove' && (
        <div className="confirm" role="group" aria-label={`Remove ${confirming.person.displayName}?`}>
          <p>
            Remove {confirming.person.displayName} from {conversation.name}? They will not see anything said after this, and the
            conversation gets new keys. The invites they made stop working, and no invite link can bring them back: only an
            admin can, with Add back.
          </p>
          <div className="button-row">
            <button type="button" onClick={() => setConfirming(null)}>
              Keep
            </button>
            <button type="button" className="danger" onClick={() => remove(confirming.person)} disabled={busy}>
              {busy ? 'Removing…' : `Remove ${confirming.person.displayName}`}
            </button>
          </div>
        </div>
      )}
      {confirming?.action === 'addBack' && (
        <div className="confirm" role="group" aria-label={`Add ${confirming.person.displayName} back?`}>
          <p>
            Add {confirming.person.displayName} back to {conversation.name}? {confirming.person.displayName} will be able to read
            new messages again and write to the group. What was said while they were away stays hidden from them.
          </p>
          <div className="button-row">
            <button type="button" onClick={() => setConfirming(null)}>
              Cancel
            </button>
            <button type="button" className="primary" onClick={() => addBack(confirming.person)} disabled={busy}>
              {busy ? 'Adding…' : `Add ${confirming.person.displayName} back`}
            </button>
          </div>
        </div>
      )}
      {verifying !== null && <VerifyDialog member={verifying} onClose={() => setVerifying(null)} />}
    </Dialog>
  )
}
