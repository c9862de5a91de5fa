import { useCallback, useEffect, useState } from 'react'
import type { ConversationSummary, MemberView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { Dialog, ErrorNote } from './Dialog.js'

/** Who is in the conversation, whether their devices are online, and (for admins) removing someone. */
export function MembersDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose(): void }) {
  const api = useApi()
  const [members, setMembers] = useState<MemberView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [confirming, setConfirming] = useState<MemberView | null>(null)
  const [busy, setBusy] = useState(false)

  const load = useCallback(() => {
    return api.call('conversations.members', { conversationId: conversation.id }).then(setMembers, (err: unknown) => setError(errorText(err)))
  }, [api, conversation.id])
  useEffect(() => {
    void load()
  }, [load])

  const remove = (member: MemberView) => {
    setBusy(true)
    setError(null)
    api.call('conversations.remove', { conversationId: conversation.id, account: member.account }).then(
      () => {
        setBusy(false)
        setConfirming(null)
        void load()
      },
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }

  const admin = conversation.role === 'admin' && !conversation.removed
  return (
    <Dialog title={`Members of ${conversation.name}`} onClose={onClose}>
      <ErrorNote error={error} />
      {members === null && error === null && <p role="status">Loading members…</p>}
      {members !== null && (
        <ul className="member-list">
          {members.map((m) => {
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
