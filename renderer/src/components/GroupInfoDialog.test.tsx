import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { ConversationSummary, SystemLineView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { CONVERSATION, conversationSummary, fakeApi, type FakeApi } from '../testing/fake-api.js'
import { GroupInfoDialog } from './GroupInfoDialog.js'
import { MembersDialog } from './MembersDialog.js'
import { SystemLine } from './SystemLine.js'

afterEach(cleanup)

const group = conversationSummary({ kind: 'group', name: 'Family', role: 'admin', memberCount: 3, description: 'Sunday lunch' })

function renderDialog(api: FakeApi, conversation: ConversationSummary = group, handlers: { onClose?(): void; onMembers?(): void } = {}) {
  return render(
    <ApiContext.Provider value={api}>
      <GroupInfoDialog conversation={conversation} onClose={handlers.onClose ?? (() => {})} onMembers={handlers.onMembers ?? (() => {})} />
    </ApiContext.Provider>,
  )
}

describe('<GroupInfoDialog>', () => {
  it('an admin renames the group and changes its description; both go in one call, trimmed', async () => {
    const api = fakeApi({ 'conversations.update': () => group })
    renderDialog(api)
    const name = screen.getByRole('textbox', { name: 'Group name' })
    const description = screen.getByRole('textbox', { name: 'Description' })
    expect((name as HTMLInputElement).value).toBe('Family')
    expect((description as HTMLTextAreaElement).value).toBe('Sunday lunch')
    fireEvent.change(name, { target: { value: '  Cousins ' } })
    fireEvent.change(description, { target: { value: 'Sunday lunch, and more ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect(await screen.findByRole('status')).toHaveProperty('textContent', 'Saved')
    expect(api.calls.find((c) => c.method === 'conversations.update')!.params).toEqual({
      conversationId: CONVERSATION,
      name: 'Cousins',
      description: 'Sunday lunch, and more',
    })
  })

  it('errors sit under the field they are about: an empty name here, a refused description from the core', async () => {
    const api = fakeApi({
      'conversations.update': () => {
        throw new HearthError('INVALID_INPUT', 'The description must not contain control or direction-override characters')
      },
    })
    renderDialog(api)
    const name = screen.getByRole('textbox', { name: 'Group name' })
    fireEvent.change(name, { target: { value: '   ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect(name.getAttribute('aria-invalid')).toBe('true')
    expect(document.getElementById(name.getAttribute('aria-describedby')!)!.textContent).toBe('Give the group a name.')
    expect(api.calls.some((c) => c.method === 'conversations.update')).toBe(false)

    fireEvent.change(name, { target: { value: 'Family' } })
    expect(name.getAttribute('aria-invalid')).toBe('false')
    fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    const description = screen.getByRole('textbox', { name: 'Description' })
    await waitFor(() => expect(description.getAttribute('aria-invalid')).toBe('true'))
    const described = description.getAttribute('aria-describedby')!.split(' ').map((id) => document.getElementById(id)!.textContent)
    // The core's words, as the app's error text puts them (a sentence).
    expect(described.some((t) => t !== null && t.startsWith('The description must not contain control or direction-override characters'))).toBe(true)
    expect(name.getAttribute('aria-invalid')).toBe('false')
  })

  it('a member reads the name and description without controls; See members opens the members', () => {
    const onMembers = vi.fn()
    renderDialog(fakeApi(), { ...group, role: 'member' }, { onMembers })
    expect(screen.queryByRole('textbox')).toBeNull()
    expect(screen.getByText('Sunday lunch')).toBeTruthy()
    expect(screen.getByText('3 members')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'See members' }))
    expect(onMembers).toHaveBeenCalledOnce()
  })

  it('Leave group asks first and says what happens; Stay keeps you in; leaving closes the dialog', async () => {
    const onClose = vi.fn()
    const api = fakeApi({ 'conversations.leave': () => ({ ...group, removed: true, left: true }) })
    renderDialog(api, { ...group, role: 'member' }, { onClose })
    fireEvent.click(screen.getByRole('button', { name: 'Leave group' }))
    const confirm = screen.getByRole('group', { name: 'Leave Family?' })
    expect(confirm.textContent).toMatch(/nothing said after you leave reaches you/)
    expect(confirm.textContent).toMatch(/only an admin can add you back/)
    fireEvent.click(screen.getByRole('button', { name: 'Stay' }))
    expect(screen.queryByRole('group', { name: 'Leave Family?' })).toBeNull()
    expect(api.calls).toHaveLength(0)
    fireEvent.click(screen.getByRole('button', { name: 'Leave group' }))
    fireEvent.click(screen.getAllByRole('button', { name: 'Leave group' }).at(-1)!)
    await waitFor(() => expect(onClose).toHaveBeenCalledOnce())
    expect(api.calls.map((c) => c.method)).toEqual(['conversations.leave'])
  })

  it('the last admin is told to hand over first; someone who left sees that instead of Leave', async () => {
    const api = fakeApi({
      'conversations.leave': () => {
        throw new HearthError('INVALID_INPUT', 'Make someone else an admin before you leave')
      },
    })
    renderDialog(api)
    fireEvent.click(screen.getByRole('button', { name: 'Leave group' }))
    fireEvent.click(screen.getAllByRole('button', { name: 'Leave group' }).at(-1)!)
    expect((await screen.findByRole('alert')).textContent).toMatch(/^Make someone else an admin before you leave/)
    cleanup()
    renderDialog(fakeApi(), { ...group, role: null, removed: true, left: true })
    expect(screen.getByText(/You left this group/)).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Leave group' })).toBeNull()
    expect(screen.queryByRole('textbox')).toBeNull()
  })
})

describe('<SystemLine>', () => {
  it('shows the line and its time', () => {
    const line: SystemLineView = { id: 'a'.repeat(64), kind: 'left', hlc: '1', at: Date.UTC(2026, 0, 15, 12, 30), actor: 'b'.repeat(64), target: null, text: 'Bob left' }
    render(<SystemLine line={line} />)
    expect(screen.getByText('Bob left')).toBeTruthy()
    expect(document.querySelector('time')!.getAttribute('datetime')).toBe('2026-01-15T12:30:00.000Z')
  })
})

describe('<MembersDialog> after someone left', () => {
  it('lists who left as “Left” (and who was removed as “Removed”), each with Add back', async () => {
    const api = fakeApi({
      'conversations.members': () => [{ account: 'a'.repeat(64), displayName: 'Alice', role: 'admin', devices: [], me: true }],
      'conversations.removed': () => [
        { account: 'b'.repeat(64), displayName: 'Bob', left: true },
        { account: 'c'.repeat(64), displayName: 'Carol' },
      ],
    })
    render(
      <ApiContext.Provider value={api}>
        <MembersDialog conversation={group} onClose={() => {}} />
      </ApiContext.Provider>,
    )
    const bob = (await screen.findByRole('button', { name: 'Add back: Bob' })).closest('li')!
    expect(bob.textContent).toContain('Left')
    const carol = screen.getByRole('button', { name: 'Add back: Carol' }).closest('li')!
    expect(carol.textContent).toContain('Removed')
    expect(carol.textContent).not.toContain('Left')
  })
})
