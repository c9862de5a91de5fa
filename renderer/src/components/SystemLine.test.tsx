import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import axe from 'axe-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { SafetyNumberView, SystemLineView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { fakeApi } from '../testing/fake-api.js'
import { SystemLine } from './SystemLine.js'

afterEach(cleanup)

const BOB = 'b'.repeat(64)
const DIGITS = '300354477692869396892869876765458257569162576843440918079131'
const AT = Date.UTC(2026, 0, 15, 12, 0)

const deviceLine = (extra: Partial<SystemLineView> = {}): SystemLineView => ({
  id: '1'.repeat(64),
  kind: 'device-changed',
  hlc: '1',
  at: AT,
  actor: 'a'.repeat(64),
  target: BOB,
  text: 'Alice added Bob back · Bob’s device changed',
  ...extra,
})

function renderLine(line: SystemLineView) {
  let verified = false
  const api = fakeApi({
    'people.safetyNumber': (): SafetyNumberView => ({ digits: DIGITS, qr: 'o2F2AQ==', verified, ...(verified ? {} : { verifiedDevicesChanged: true }) }),
    'people.verify': () => {
      verified = true
      return null
    },
  })
  render(
    <ApiContext.Provider value={api}>
      <SystemLine line={line} />
    </ApiContext.Provider>,
  )
  return api
}

describe('<SystemLine>: a person’s own device lines', () => {
  it('shows linking and removing a device as quiet lines, with the notice on the line that carries it', () => {
    const text = 'Bob’s devices changed since you verified them. Verify Bob again.'
    renderLine(deviceLine({ kind: 'device-revoked', actor: BOB, target: null, text: 'Bob removed a device' }))
    renderLine(deviceLine({ id: '2'.repeat(64), kind: 'device-added', actor: BOB, target: null, text: 'Bob linked a new device', verifyAgain: { account: BOB, displayName: 'Bob', text } }))
    expect(screen.getByText('Bob removed a device').closest('p')!.dataset['kind']).toBe('device-revoked')
    expect(screen.getByText('Bob linked a new device').closest('p')!.dataset['kind']).toBe('device-added')
    expect(screen.getAllByRole('note')).toHaveLength(1)
    expect(screen.getByRole('note').textContent).toContain(text)
    expect(screen.getByRole('button', { name: 'Verify again: Bob' })).toBeTruthy()
  })
})

describe('<SystemLine>: the key-change notice', () => {
  it('a plain line has no notice', () => {
    renderLine(deviceLine())
    expect(screen.getByText('Alice added Bob back · Bob’s device changed')).toBeTruthy()
    expect(screen.queryByRole('note')).toBeNull()
    expect(screen.queryByRole('button')).toBeNull()
  })

  it('says plainly that a verified person’s devices changed, and verifies them again from there', async () => {
    const text = 'Bob’s devices changed since you verified them. Verify Bob again.'
    const api = renderLine(deviceLine({ verifyAgain: { account: BOB, displayName: 'Bob', text } }))
    const note = screen.getByRole('note')
    expect(note.textContent).toContain(text)
    fireEvent.click(screen.getByRole('button', { name: 'Verify again: Bob' }))
    await screen.findByRole('dialog', { name: 'Verify Bob' })
    expect((await screen.findByText(/Bob’s devices changed since you verified them\. The number stays the same/)).getAttribute('role')).toBe('note')
    expect(screen.getByText('Bob needs verifying again.')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'The numbers match: mark as verified' }))
    await screen.findByText('✓ You have verified Bob.')
    expect(screen.queryByText(/The number stays the same/)).toBeNull()
    expect(api.calls.find((c) => c.method === 'people.verify')!.params).toEqual({ account: BOB })
  })

  it('passes axe with the notice shown', async () => {
    renderLine(deviceLine({ verifyAgain: { account: BOB, displayName: 'Bob', text: 'Bob’s devices changed since you verified them. Verify Bob again.' } }))
    const options = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }
    const result = await axe.run(document.body, options)
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
  })
})
