import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import QRCode from 'qrcode'
import { afterEach, describe, expect, it } from 'vitest'
import type { Params } from '../../../node/src/api/contract.js'
import type { InviteView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { CONVERSATION, conversationSummary, fakeApi, type FakeApi } from '../testing/fake-api.js'
import { InviteDialog } from './InviteDialog.js'

afterEach(cleanup)

const DAY = 24 * 60 * 60 * 1000
const SHORT = (n: number) => `hearth://j/K7Q29XHM4RTWPLZ3G8N${n}@0G2M0001TB4Y2A8`

/** A core that keeps a list of invites: made ones join it, revoked ones leave it. */
function inviting(initial: InviteView[] = []) {
  let list = [...initial]
  let n = 0
  const api = fakeApi({
    'conversations.invites': () => list,
    'conversations.invite': (p) => {
      n++
      const invite: InviteView = {
        id: String(n).padStart(32, '0'),
        createdAt: Date.UTC(2026, 0, 15) + n,
        expiresAt: Date.UTC(2026, 0, 22),
        singleUse: p.singleUse ?? true,
        uses: 0,
        shortLink: SHORT(n),
        code: `hearth://join/code-${n}`,
      }
      list = [invite, ...list]
      return { code: invite.code!, inviteId: invite.id, expiresAt: invite.expiresAt, shortLink: invite.shortLink }
    },
    'conversations.revokeInvite': (p) => {
      list = list.filter((i) => i.id !== p.inviteId)
      return null
    },
  })
  const made = () => api.calls.filter((c) => c.method === 'conversations.invite').map((c) => c.params as Params<'conversations.invite'>)
  return { api, made }
}

function renderDialog(api: FakeApi, conversation = conversationSummary()) {
  return render(
    <ApiContext.Provider value={api}>
      <InviteDialog conversation={conversation} onClose={() => {}} />
    </ApiContext.Provider>,
  )
}

const rows = () => within(screen.getByRole('list', { name: 'Active invites' })).getAllByRole('listitem')

describe('<InviteDialog>', () => {
  it('with no invite, makes one single-use invite and shows its code in groups of four with a QR code', async () => {
    const { api, made } = inviting()
    renderDialog(api)
    expect(await screen.findByText('K7Q2 9XHM 4RTW PLZ3 G8N1 @ 0G2M 0001 TB4Y 2A8')).toBeTruthy()
    expect(made()).toEqual([{ conversationId: CONVERSATION, singleUse: true }])
    expect(await screen.findByRole('img', { name: /QR code of the invite/ })).toBeTruthy()
    expect((screen.getByLabelText('Invite link') as HTMLInputElement).value).toBe(SHORT(1))
    expect(rows()).toHaveLength(1)
    expect(within(rows()[0]!).getByText(/Works once/)).toBeTruthy()
  })

  it('opening it again shows the invites there are and makes none', async () => {
    const existing: InviteView = {
      id: 'a'.repeat(32),
      createdAt: 1,
      expiresAt: 0,
      singleUse: false,
      uses: 2,
      shortLink: SHORT(9),
      code: 'hearth://join/old',
    }
    const other: InviteView = { ...existing, id: 'b'.repeat(32), shortLink: null, code: null, singleUse: true, uses: 0 }
    const { api, made } = inviting([existing, other])
    renderDialog(api)
    await waitFor(() => expect(rows()).toHaveLength(2))
    expect(within(rows()[0]!).getByText(/used 2 times\), does not expire/)).toBeTruthy()
    expect(within(rows()[1]!).getByText('Made on another device')).toBeTruthy()
    expect(within(rows()[1]!).queryByRole('button', { name: 'Copy link' })).toBeNull()
    expect(made()).toEqual([])
  })

  it('revokes from the list, and makes a new reusable invite on request with the expiry picked', async () => {
    const { api, made } = inviting()
    renderDialog(api)
    await waitFor(() => expect(rows()).toHaveLength(1))
    fireEvent.click(within(rows()[0]!).getByRole('button', { name: 'Revoke' }))
    expect(await screen.findByText(/No invite can be used right now/)).toBeTruthy()
    expect(api.calls.some((c) => c.method === 'conversations.revokeInvite' && (c.params as { inviteId: string }).inviteId === '1'.padStart(32, '0'))).toBe(true)
    expect(screen.getByText(/Invite revoked/)).toBeTruthy()

    fireEvent.click(screen.getByRole('radio', { name: /Several people/ }))
    fireEvent.change(screen.getByLabelText('Expires after'), { target: { value: '30' } })
    fireEvent.click(screen.getByRole('button', { name: 'New invite' }))
    await waitFor(() => expect(rows()).toHaveLength(1))
    expect(made().at(-1)).toEqual({ conversationId: CONVERSATION, singleUse: false, expiresInMs: 30 * DAY })
    expect(within(rows()[0]!).getByText(/Works for several people/)).toBeTruthy()
  })

  it('a direct conversation offers no reusable invite', async () => {
    const { api, made } = inviting()
    renderDialog(api, conversationSummary({ kind: 'direct' }))
    await waitFor(() => expect(rows()).toHaveLength(1))
    expect(screen.queryByRole('radio')).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'New invite' }))
    await waitFor(() => expect(made()).toHaveLength(2))
    expect(made().every((p) => p.singleUse === true)).toBe(true)
  })

  it('the QR code of a short link is small: version 3 at level M (29×29 modules)', () => {
    const qr = QRCode.create(SHORT(1).toUpperCase(), { errorCorrectionLevel: 'M' })
    expect(qr.version).toBeLessThanOrEqual(3)
  })
})
