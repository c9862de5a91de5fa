import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import axe from 'axe-core'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { SafetyNumberView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { fakeApi, type FakeApi } from '../testing/fake-api.js'
import { digitRows, VerifyDialog } from './VerifyDialog.js'

afterEach(cleanup)

const DIGITS = '300354477692869396892869876765458257569162576843440918079131'
const BOB = { account: 'b'.repeat(64), displayName: 'Bob' }

function core(initial = false) {
  let verified = initial
  const api = fakeApi({
    'people.safetyNumber': (): SafetyNumberView => ({ digits: DIGITS, qr: 'o2F2AQ==', verified }),
    'people.verify': (p) => {
      if (p.scanned !== undefined && p.scanned !== 'theirs') {
        throw new HearthError('VERIFY_MISMATCH', 'This code does not match: it is not this person’s, or one of you sees a different key. Do not mark them verified.')
      }
      verified = true
      return null
    },
    'people.unverify': () => {
      verified = false
      return null
    },
  })
  return api
}

function renderDialog(api: FakeApi, member: Parameters<typeof VerifyDialog>[0]['member'] = BOB) {
  return render(
    <ApiContext.Provider value={api}>
      <VerifyDialog member={member} onClose={() => {}} />
    </ApiContext.Provider>,
  )
}

describe('<VerifyDialog>', () => {
  it('shows the 60 digits as three rows of four groups of five', async () => {
    renderDialog(core())
    const number = await screen.findByText(/30035 44776 92869 39689/)
    expect(number.textContent).toBe('30035 44776 92869 3968928698 76765 45825 7569162576 84344 09180 79131')
    expect(digitRows(DIGITS).flat().join('')).toBe(DIGITS)
    expect(await screen.findByRole('img', { name: 'Your code for Bob to scan' })).toBeTruthy()
  })

  it('marks as verified when the numbers match, and can take it back', async () => {
    const api = core()
    renderDialog(api)
    fireEvent.click(await screen.findByRole('button', { name: 'The numbers match: mark as verified' }))
    await screen.findByText('✓ You have verified Bob.')
    expect(api.calls.find((c) => c.method === 'people.verify')!.params).toEqual({ account: BOB.account })
    fireEvent.click(screen.getByRole('button', { name: 'Remove verification' }))
    await screen.findByText('Bob is not verified yet.')
  })

  it('a pasted code that does not match is refused in words, and nothing is marked', async () => {
    const api = core()
    renderDialog(api)
    fireEvent.change(await screen.findByLabelText('Or paste the code Bob’s Hearth shows'), { target: { value: 'someone-else' } })
    fireEvent.click(screen.getByRole('button', { name: 'Check code' }))
    expect((await screen.findByRole('alert')).textContent).toContain('This code does not match')
    expect(screen.getByText('Bob is not verified yet.')).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Or paste the code Bob’s Hearth shows'), { target: { value: 'theirs' } })
    fireEvent.click(screen.getByRole('button', { name: 'Check code' }))
    await screen.findByText('✓ You have verified Bob.')
  })

  it('says plainly when the key is not the one verified', async () => {
    renderDialog(core(), { ...BOB, verifiedKeyChanged: true })
    expect((await screen.findByRole('note')).textContent).toContain('Bob’s key is not the one you verified')
  })

  it('passes axe (structure, names, roles)', async () => {
    renderDialog(core())
    await screen.findByRole('img', { name: 'Your code for Bob to scan' })
    const options = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }
    const result = await axe.run(document.body, options)
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
    await waitFor(() => expect(screen.getByRole('dialog', { name: 'Verify Bob' })).toBeTruthy())
  })
})
