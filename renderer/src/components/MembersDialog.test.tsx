import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { MemberView, RemovedMemberView } from '../../../node/src/api/types.js'
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

  it('shows who is verified, and who needs re-verification because their devices changed', async () => {
    const api = fakeApi({
      'conversations.members': () => [
        person('Alice', 'admin', true),
        { ...person('Bob', 'member'), verified: true },
        { ...person('Carol', 'member'), verified: false, verifiedDevicesChanged: true },
      ],
    })
    renderDialog(api)
    const bob = (await screen.findByText('Bob')).closest('li')!
    expect(bob.textContent).toContain('✓ verified')
    const carol = screen.getByText('Carol').closest('li')!
    expect(carol.textContent).toContain('needs re-verification: devices changed')
    expect(carol.textContent).not.toContain('✓ verified')
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
    expect((await screen.findByRole('alert')).textContent).toBe('Only an admin of this conversation can do that. Ask one of its admins.')
  })

  it('removing asks first, and says what removal means: no new messages, invites revoked, only Add back brings them back', async () => {
    const api = fakeApi({
      'conversations.members': () => [person('Alice', 'admin', true), person('Bob', 'member')],
      'conversations.removed': () => [],
      'conversations.remove': () => null,
    })
    renderDialog(api)
    fireEvent.click(await screen.findByRole('button', { name: 'Remove Bob' }))
    const confirm = screen.getByRole('group', { name: 'Remove Bob?' })
    expect(confirm.textContent).toContain('They will not see anything said after this')
    expect(confirm.textContent).toContain('The invites they made stop working')
    expect(confirm.textContent).toContain('no invite link can bring them back: only an admin can, with Add back')
    expect(api.calls.some((c) => c.method === 'conversations.remove')).toBe(false)
    fireEvent.click(within(confirm).getByRole('button', { name: 'Remove Bob' }))
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'conversations.remove')).toHaveLength(1))
    await waitFor(() => expect(screen.queryByRole('group', { name: 'Remove Bob?' })).toBeNull())
  })

  it('an admin sees who was removed and adds them back after its own confirmation; the lists follow members.changed', async () => {
    const bob = person('Bob', 'member')
    let members = [person('Alice', 'admin', true)]
    let removed: RemovedMemberView[] = [{ account: bob.account, displayName: 'Bob' }]
    const api = fakeApi({
      'conversations.members': () => members,
      'conversations.removed': () => removed,
      'conversations.addBack': () => null,
    })
    renderDialog(api)
    const removedSection = await screen.findByRole('region', { name: 'Removed' })
    expect(removedSection.textContent).toContain('Bob')
    fireEvent.click(screen.getByRole('button', { name: 'Add back: Bob' }))
    const confirm = screen.getByRole('group', { name: 'Add Bob back?' })
    expect(confirm.textContent).toContain('Bob will be able to read new messages again and write to the group')
    // Cancel asks nothing of the core.
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByRole('group', { name: 'Add Bob back?' })).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'Add back: Bob' }))
    fireEvent.click(screen.getByRole('button', { name: 'Add Bob back' }))
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'conversations.addBack')).toHaveLength(1))
    expect(api.calls.find((c) => c.method === 'conversations.addBack')!.params).toEqual({ conversationId: CONVERSATION, account: bob.account })

    members = [person('Alice', 'admin', true), bob]
    removed = []
    act(() => api.emit('members.changed', { conversation: CONVERSATION as never, members }))
    expect(await screen.findByRole('button', { name: 'Remove Bob' })).toBeTruthy()
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Removed' })).toBeNull())
  })

  it('a refused add-back is shown in place; members never see the removed list nor ask for it', async () => {
    const api = fakeApi({
      'conversations.members': () => [person('Alice', 'admin', true)],
      'conversations.removed': () => [{ account: 'B'.repeat(64), displayName: 'Bob' }],
      'conversations.addBack': () => {
        throw new HearthError('NOT_AN_ADMIN', 'only admins can do that')
      },
    })
    renderDialog(api)
    fireEvent.click(await screen.findByRole('button', { name: 'Add back: Bob' }))
    fireEvent.click(screen.getByRole('button', { name: 'Add Bob back' }))
    expect((await screen.findByRole('alert')).textContent).toBe('Only an admin of this conversation can do that. Ask one of its admins.')
    cleanup()

    const member = fakeApi({ 'conversations.members': () => [person('Alice', 'admin'), person('Bob', 'member', true)] })
    renderDialog(member, { ...summary, role: 'member' })
    expect(await screen.findByText('Alice')).toBeTruthy()
    expect(screen.queryByRole('region', { name: 'Removed' })).toBeNull()
    expect(member.calls.some((c) => c.method === 'conversations.removed')).toBe(false)
  })
})
