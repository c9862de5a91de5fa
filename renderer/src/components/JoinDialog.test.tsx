import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import { formatShortInvite, groupForReading, secretFromBytes } from '../../../node/src/conversation/short-invite.js'
import { ApiContext } from '../api/context.js'
import { conversationSummary, fakeApi } from '../testing/fake-api.js'
import { JoinDialog } from './JoinDialog.js'

afterEach(cleanup)

// A real short link: /ip4/192.168.1.20/tcp/41234, and its code as the inviter's dialog shows it for reading out.
const LINK = formatShortInvite({
  secret: secretFromBytes(new Uint8Array(12).fill(0x3c)),
  locator: Uint8Array.from([0x04, 192, 168, 1, 20, 0x06, 0xa1, 0x12]),
})

function renderDialog(join: (code: string) => void | Promise<void>) {
  const joined: string[] = []
  const api = fakeApi({
    'conversations.join': async (p) => {
      await join(p.code)
      return conversationSummary()
    },
  })
  render(
    <ApiContext.Provider value={api}>
      <JoinDialog onClose={() => {}} onJoined={(c) => joined.push(c.id)} />
    </ApiContext.Provider>,
  )
  const field = screen.getByLabelText('Invite link or code') as HTMLTextAreaElement
  const type = (text: string) => fireEvent.change(field, { target: { value: text } })
  const submit = () => fireEvent.click(screen.getByRole('button', { name: 'Join' }))
  return { api, field, type, submit, joined }
}

describe('<JoinDialog>', () => {
  it('joins with a code typed by hand: lower case, spaces and dashes', async () => {
    const { api, type, submit, joined } = renderDialog(() => {})
    const typed = groupForReading(LINK).toLowerCase().replace(' @ ', '@').replaceAll(' ', '-')
    type(`  ${typed} `)
    submit()
    await waitFor(() => expect(joined).toHaveLength(1))
    expect(api.calls).toEqual([{ method: 'conversations.join', params: { code: typed } }])
  })

  it('a typo is caught in the field before anything is sent, and typing again clears it', async () => {
    const { api, field, type, submit } = renderDialog(() => {})
    const grouped = groupForReading(LINK)
    const wrong = (grouped[0] === 'A' ? 'B' : 'A') + grouped.slice(1)
    type(wrong)
    submit()
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toMatch(/This invite code has a typo/)
    expect(field.getAttribute('aria-invalid')).toBe('true')
    expect(field.getAttribute('aria-describedby')).toBe(alert.id)
    expect(api.calls).toEqual([])
    type(grouped)
    expect(screen.queryByRole('alert')).toBeNull()
    expect(field.getAttribute('aria-invalid')).toBe('false')
  })

  it('a missing @ part and an empty field are explained in words', async () => {
    const { type, submit } = renderDialog(() => {})
    submit()
    expect((await screen.findByRole('alert')).textContent).toMatch(/Type the invite code or paste the link/)
    type(groupForReading(LINK).split(' @ ')[0]! + ' @')
    submit()
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/typo|missing/))
  })

  it('what the core says (revoked, nobody reachable) shows under the field', async () => {
    const { type, submit, field } = renderDialog(() => {
      throw new HearthError('INVITE_REVOKED', 'This invite was revoked or has already been used: ask the person who invited you for a new one.')
    })
    type(LINK)
    submit()
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toMatch(/revoked or has already been used/)
    expect(field.getAttribute('aria-describedby')).toBe(alert.id)
  })
})
