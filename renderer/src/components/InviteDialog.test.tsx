import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { Params } from '../../../node/src/api/contract.js'
import { ApiContext } from '../api/context.js'
import { CONVERSATION, conversationSummary, fakeApi, type FakeApi } from '../testing/fake-api.js'
import { InviteDialog } from './InviteDialog.js'

afterEach(cleanup)

const DAY = 24 * 60 * 60 * 1000

function inviting() {
  let n = 0
  const api = fakeApi({
    'conversations.invite': () => {
      n++
      return { code: `hearth://join/code-${n}`, inviteId: String(n).padStart(32, '0'), expiresAt: Date.UTC(2026, 0, 22) }
    },
  })
  const invites = () => api.calls.filter((c) => c.method === 'conversations.invite').map((c) => c.params as Params<'conversations.invite'>)
  return { api, invites }
}

function renderDialog(api: FakeApi, conversation = conversationSummary()) {
  return render(
    <ApiContext.Provider value={api}>
      <InviteDialog conversation={conversation} onClose={() => {}} />
    </ApiContext.Provider>,
  )
}

describe('<InviteDialog>', () => {
  it('makes a single-use link by default and says so', async () => {
    const { api, invites } = inviting()
    renderDialog(api)
    expect(((await screen.findByLabelText('Invite link')) as HTMLTextAreaElement).value).toBe('hearth://join/code-1')
    expect(invites()).toEqual([{ conversationId: CONVERSATION, singleUse: true }])
    expect((screen.getByRole('radio', { name: /One person/ }) as HTMLInputElement).checked).toBe(true)
    expect(screen.getByText(/This link works once/)).toBeTruthy()
    expect(screen.queryByLabelText('Expires after')).toBeNull()
  })

  it('a reusable link is a visible choice with an expiry the person picks, and the dialog says which kind is shown', async () => {
    const { api, invites } = inviting()
    renderDialog(api)
    await screen.findByLabelText('Invite link')
    fireEvent.click(screen.getByRole('radio', { name: /Several people/ }))
    await waitFor(() => expect((screen.getByLabelText('Invite link') as HTMLTextAreaElement).value).toBe('hearth://join/code-2'))
    expect(invites()[1]).toEqual({ conversationId: CONVERSATION, singleUse: false, expiresInMs: 7 * DAY })
    expect(screen.getByText(/Anyone who has this link can join until it expires/)).toBeTruthy()
    expect(screen.queryByText(/This link works once/)).toBeNull()

    const expiry = screen.getByLabelText('Expires after') as HTMLSelectElement
    expect([...expiry.options].map((o) => o.textContent)).toEqual(['1 day', '7 days', '30 days'])
    fireEvent.change(expiry, { target: { value: '30' } })
    await waitFor(() => expect((screen.getByLabelText('Invite link') as HTMLTextAreaElement).value).toBe('hearth://join/code-3'))
    expect(invites()[2]).toEqual({ conversationId: CONVERSATION, singleUse: false, expiresInMs: 30 * DAY })
    fireEvent.change(expiry, { target: { value: '1' } })
    await waitFor(() => expect(invites()[3]).toEqual({ conversationId: CONVERSATION, singleUse: false, expiresInMs: DAY }))

    fireEvent.click(screen.getByRole('radio', { name: /One person/ }))
    await waitFor(() => expect(screen.getByText(/This link works once/)).toBeTruthy())
    expect(invites().at(-1)).toEqual({ conversationId: CONVERSATION, singleUse: true })
  })

  it('a direct conversation offers no reusable link', async () => {
    const { api, invites } = inviting()
    renderDialog(api, conversationSummary({ kind: 'direct' }))
    await screen.findByLabelText('Invite link')
    expect(screen.queryByRole('radio')).toBeNull()
    expect(invites()).toEqual([{ conversationId: CONVERSATION, singleUse: true }])
  })
})
