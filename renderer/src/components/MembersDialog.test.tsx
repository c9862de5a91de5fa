import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { MemberView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { CONVERSATION, conversationSummary, fakeApi, type FakeApi } from '../testing/fake-api.js'
import { MembersDialog } from './MembersDialog.js'

afterEach(cleanup)

const summary = conversationSummary()

const person = (name: string, role: MemberView['role'], me = false): MemberView => ({
  account: name[0]!.repeat(64),
  displayName: name,
  role,
  devices: [{ device: 'd'.repeat(64), peerId: `peer-${name}`, online: me }],
  me,
})

function renderDialog(api: FakeApi, conversation = summary) {
  return render(
    <ApiContext.Provider value={api}>
      <MembersDialog conversation={conversation} onClose={() => {}} />
    </ApiContext.Provider>,
  )
}

describe('<MembersDialog>', () => {
  it('an admin makes a member admin; the list follows the change; stepping down is offered once there is another admin', async () => {
    let members = [person('Alice', 'admin', true), person('Bob', 'member')]
    const api = fakeApi({
      'conversations.members': () => members,
      'conversations.setRole': () => undefined as never,
    })
    renderDialog(api)
    fireEvent.click(await screen.findByRole('button', { name: 'Make admin: Bob' }))
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'conversations.setRole')).toHaveLength(1))
    expect(api.calls.find((c) => c.method === 'conversations.setRole')!.params).toEqual({
      conversationId: CONVERSATION,
      account: 'B'.repeat(64),
      role: 'admin',
    })
    expect(screen.queryByRole('button', { name: 'Step down as admin' })).toBeNull()
    members = [person('Alice', 'admin', true), person('Bob', 'admin')]
    act(() => api.emit('members.changed', { conversation: CONVERSATION as never, members }))
    expect(await screen.findByRole('button', { name: 'Make member: Bob' })).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Step down as admin' })).toBeTruthy()
  })

  it('a member sees the list without admin controls; a refused change is shown in place', async () => {
    const api = fakeApi({ 'conversations.members': () => [person('Alice', 'admin'), person('Bob', 'member', true)] })
    renderDialog(api, { ...summary, role: 'member' })
    expect(await screen.findByText('Alice')).toBeTruthy()
    expect(screen.queryByRole('button', { name: /Make|Remove|Step down/ })).toBeNull()
    cleanup()

    const admin = fakeApi({
      'conversations.members': () => [person('Alice', 'admin', true), person('Bob', 'member')],
      'conversations.setRole': () => {
        throw new HearthError('NOT_AN_ADMIN', 'only admins can do that')
      },
    })
    renderDialog(admin)
    fireEvent.click(await screen.findByRole('button', { name: 'Make admin: Bob' }))
    expect((await screen.findByRole('alert')).textContent).toBe('only admins can do that')
  })
})
