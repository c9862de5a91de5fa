import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import axe from 'axe-core'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { AccountStatus } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { fakeApi, type FakeApi } from '../testing/fake-api.js'
import { AccountSettings } from './AccountSettings.js'

afterEach(cleanup)

const PHRASE = Array.from({ length: 24 }, (_, i) => `word${i + 1}`).join(' ')
const PASS = 'the right passphrase'

function setup(status: AccountStatus): FakeApi {
  let passphrase = PASS
  const api = fakeApi({
    'account.status': () => status,
    'account.recoveryPhrase': (p) => {
      if (status.protection === 'passphrase' && p.passphrase !== passphrase) {
        throw new HearthError('WRONG_PASSPHRASE', 'That is not your current passphrase. The recovery phrase was not shown.')
      }
      return { phrase: status.recoveryPhraseKept ? PHRASE : null }
    },
    'account.changePassphrase': (p) => {
      if (p.current !== passphrase) throw new HearthError('WRONG_PASSPHRASE', 'That is not your current passphrase. Nothing was changed.')
      passphrase = p.next
      return null
    },
  })
  render(
    <ApiContext.Provider value={api}>
      <AccountSettings />
    </ApiContext.Provider>,
  )
  return api
}

const phraseShown = () => screen.queryByRole('list', { name: 'Recovery phrase' })

describe('<AccountSettings>: the recovery phrase', () => {
  it('asks for the passphrase first; a wrong one is said under the field and shows nothing', async () => {
    const api = setup({ recoveryPhraseKept: true, protection: 'passphrase' })
    fireEvent.click(await screen.findByRole('button', { name: 'Show recovery phrase' }))
    const field = screen.getByLabelText('Your passphrase') as HTMLInputElement
    expect(field.type).toBe('password')
    fireEvent.click(screen.getByRole('button', { name: 'Show' }))
    expect((await screen.findByRole('alert')).textContent).toBe('Type your passphrase.')
    expect(api.calls.some((c) => c.method === 'account.recoveryPhrase')).toBe(false)

    fireEvent.change(field, { target: { value: 'not it' } })
    fireEvent.click(screen.getByRole('button', { name: 'Show' }))
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe('That is not your current passphrase. The recovery phrase was not shown.')
    expect(field.getAttribute('aria-invalid')).toBe('true')
    expect(phraseShown()).toBeNull()

    fireEvent.change(field, { target: { value: PASS } })
    fireEvent.click(screen.getByRole('button', { name: 'Show' }))
    const list = await screen.findByRole('list', { name: 'Recovery phrase' })
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(PHRASE.split(' ').map((w, i) => `${i + 1}${w}`))
    expect(api.calls.filter((c) => c.method === 'account.recoveryPhrase').at(-1)!.params).toEqual({ passphrase: PASS })
    fireEvent.click(screen.getByRole('button', { name: 'Hide recovery phrase' }))
    expect(phraseShown()).toBeNull()
    // Showing it again asks again, with an empty field.
    fireEvent.click(screen.getByRole('button', { name: 'Show recovery phrase' }))
    expect((screen.getByLabelText('Your passphrase') as HTMLInputElement).value).toBe('')
  })

  it('with the OS keychain, asks the person to confirm instead and says why', async () => {
    const api = setup({ recoveryPhraseKept: true, protection: 'keychain' })
    fireEvent.click(await screen.findByRole('button', { name: 'Show recovery phrase' }))
    expect(screen.queryByLabelText('Your passphrase')).toBeNull()
    expect(screen.getByText(/keychain protects your keys, so there is no passphrase to ask for/)).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Nobody is looking: show the words' }))
    await screen.findByRole('list', { name: 'Recovery phrase' })
    expect(api.calls.find((c) => c.method === 'account.recoveryPhrase')!.params).toEqual({})
    expect(screen.getByText(/no passphrase to change/)).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Change passphrase' })).toBeNull()
  })

  it('a device set up before the phrase was kept says so plainly and offers no button', async () => {
    setup({ recoveryPhraseKept: false, protection: 'passphrase' })
    await screen.findByText(/set up before Hearth kept the recovery phrase, so it cannot show it again/)
    expect(screen.queryByRole('button', { name: 'Show recovery phrase' })).toBeNull()
  })

  it('leaves the section out for a headless core (no app host to ask)', async () => {
    const api = fakeApi({})
    const { container } = render(
      <ApiContext.Provider value={api}>
        <AccountSettings />
      </ApiContext.Provider>,
    )
    await waitFor(() => expect(api.calls.map((c) => c.method)).toEqual(['account.status']))
    expect(container.textContent).toBe('')
  })
})

describe('<AccountSettings>: changing the passphrase', () => {
  async function openForm() {
    fireEvent.click(await screen.findByRole('button', { name: 'Change passphrase' }))
    const form = screen.getByRole('form', { name: 'Change passphrase' })
    const fill = (current: string, next: string, again = next) => {
      fireEvent.change(within(form).getByLabelText('Current passphrase'), { target: { value: current } })
      fireEvent.change(within(form).getByLabelText('New passphrase'), { target: { value: next } })
      fireEvent.change(within(form).getByLabelText('New passphrase again'), { target: { value: again } })
      fireEvent.click(within(form).getByRole('button', { name: 'Change passphrase' }))
    }
    return { form, fill }
  }

  it('checks the new one twice before asking, says a wrong current one under its field, then confirms', async () => {
    const api = setup({ recoveryPhraseKept: true, protection: 'passphrase' })
    const { form, fill } = await openForm()
    fill(PASS, 'short')
    expect((await within(form).findByRole('alert')).textContent).toBe('The new passphrase needs at least 8 characters.')
    fill(PASS, 'a new passphrase', 'a new passphrasf')
    expect((await within(form).findByRole('alert')).textContent).toBe('The two new passphrases differ.')
    expect(api.calls.some((c) => c.method === 'account.changePassphrase')).toBe(false)

    fill('not it', 'a new passphrase')
    const alert = await within(form).findByRole('alert')
    expect(alert.textContent).toBe('That is not your current passphrase. Nothing was changed.')
    const current = within(form).getByLabelText('Current passphrase')
    expect(current.getAttribute('aria-invalid')).toBe('true')
    expect(current.getAttribute('aria-describedby')).toBe(alert.id)

    fill(PASS, 'a new passphrase')
    await screen.findByText('Passphrase changed. Use the new one the next time you unlock Hearth.')
    expect(screen.queryByRole('form', { name: 'Change passphrase' })).toBeNull()
    expect(api.calls.filter((c) => c.method === 'account.changePassphrase').at(-1)!.params).toEqual({ current: PASS, next: 'a new passphrase' })
  })

  it('passes axe with the phrase shown and the passphrase form open', async () => {
    setup({ recoveryPhraseKept: true, protection: 'passphrase' })
    fireEvent.click(await screen.findByRole('button', { name: 'Show recovery phrase' }))
    fireEvent.change(screen.getByLabelText('Your passphrase'), { target: { value: PASS } })
    fireEvent.click(screen.getByRole('button', { name: 'Show' }))
    await screen.findByRole('list', { name: 'Recovery phrase' })
    await openForm()
    const options = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }
    const result = await axe.run(document.body, options)
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
  })
})
