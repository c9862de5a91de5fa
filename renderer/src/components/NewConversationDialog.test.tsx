import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import { ApiContext } from '../api/context.js'
import { fakeApi } from '../testing/fake-api.js'
import { NewConversationDialog } from './NewConversationDialog.js'

afterEach(cleanup)

describe('<NewConversationDialog>', () => {
  it('says what is wrong under the name field, tied to it, and clears it as the name is edited', async () => {
    const api = fakeApi({
      'conversations.create': () => {
        throw new HearthError('TOO_LARGE', 'the conversation name is too long to fit in an invite')
      },
    })
    render(
      <ApiContext.Provider value={api}>
        <NewConversationDialog kind="group" onClose={() => {}} onCreated={() => {}} />
      </ApiContext.Provider>,
    )
    const input = screen.getByLabelText('Group name') as HTMLInputElement
    fireEvent.click(screen.getByRole('button', { name: 'Create group' }))
    let alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe('Give the group a name.')
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(input.getAttribute('aria-describedby')).toBe(alert.id)

    fireEvent.change(input, { target: { value: 'A very long family name' } })
    expect(screen.queryByRole('alert')).toBeNull()
    expect(input.getAttribute('aria-invalid')).toBe('false')
    fireEvent.click(screen.getByRole('button', { name: 'Create group' }))
    alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe('That name is too long to fit in an invite. Try a shorter one.')
    expect(input.getAttribute('aria-describedby')).toBe(alert.id)
  })
})
