import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { CONVERSATION, conversationSummary, fakeApi, type FakeApi } from '../testing/fake-api.js'
import { PendingJoin } from './PendingJoin.js'

afterEach(cleanup)

function renderPending(api: FakeApi, conversation: ConversationSummary, onDismissed: () => void) {
  return render(
    <ApiContext.Provider value={api}>
      <PendingJoin conversation={conversation} onDismissed={onDismissed} />
    </ApiContext.Provider>,
  )
}

describe('<PendingJoin>', () => {
  it('while waiting: says so, that the app may be closed, and cancels the request', async () => {
    const api = fakeApi({ 'conversations.dismissJoin': () => null })
    const onDismissed = vi.fn()
    renderPending(api, conversationSummary({ name: 'Cousins', joinState: 'waiting' }), onDismissed)
    expect(screen.getByRole('status').textContent).toContain('Waiting for the group to let you in')
    expect(screen.getByText(/You can close Hearth meanwhile/)).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Cancel the request' }))
    await waitFor(() => expect(onDismissed).toHaveBeenCalledOnce())
    expect(api.calls.find((c) => c.method === 'conversations.dismissJoin')!.params).toEqual({ conversationId: CONVERSATION })
  })

  it('when refused: shows why, and a failure to clear it stays on screen in words', async () => {
    const api = fakeApi({
      'conversations.dismissJoin': () => {
        throw new HearthError('STORAGE_FULL', 'the disk is full')
      },
    })
    const onDismissed = vi.fn()
    const refusal = 'You were removed from this group: only an admin can add you back.'
    renderPending(api, conversationSummary({ name: 'Cousins', joinState: 'refused', joinRefusal: refusal }), onDismissed)
    expect(screen.getByRole('status').textContent).toBe(refusal)
    fireEvent.click(screen.getByRole('button', { name: 'Remove from the list' }))
    await screen.findByRole('alert')
    expect(onDismissed).not.toHaveBeenCalled()
  })
})
