import { useState } from 'react'
import type { ConversationSummary, MemberView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { useMembers } from '../hooks/useMembers.js'
import { Dialog, ErrorNote } from './Dialog.js'

/**
 * Who is in the conversation and whether their devices are online; for admins, making someone admin or member and
 * removing someone. The list follows membership changes live.
 */
export function MembersDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose(): void }) {
  const api = useApi()
  const members = useMembers(api, conversation.id)
  const [error, setError] = useState<string | null>(null)
  const [confirming, setConfirming] = useState<MemberView | null>(null)
  const [busy, setBusy] = useState(false)

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
  const setRole = (member: MemberView, role: MemberView['role']) =>
    act(() => api.call('conversations.setRole', { conversationId: conversation.id, account: member.account, role }))

  const admin = conversation.role === 'admin' && !conversation.removed
  const list = members.list
  const admins = list?.filter((m) => m.role === 'admin').length ?? 0
  return (
    <Dialog title={`Members of ${conversation.name}`} onClose={onClose}>
      <ErrorNote error={error ?? members.error} />
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
                </span>
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
                  <button type="button" className="danger-link" onClick={() => setConfirming(m)} aria-label={`Remove ${m.displayName}`}>
                    Remove
                  </button>
                )}
              </li>
            )
          })}
        </ul>
      )}
      {admin && <p className="muted small">Admins can invite people, remove members and choose other admins.</p>}
      {confirming !== null && (
        <div className="confirm" role="group" aria-label={`Remove ${confirming.displayName}?`}>
          <p>
            Remove {confirming.displayName} from {conversation.name}? They will not see anything said after this, and the
            conversation gets new keys.
          </p>
          <div className="button-row">
            <button type="button" onClick={() => setConfirming(null)}>
              Keep
            </button>
            <button type="button" className="danger" onClick={() => remove(confirming)} disabled={busy}>
              {busy ? 'Removing…' : `Remove ${confirming.displayName}`}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  )
}
