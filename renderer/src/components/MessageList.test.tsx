import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildItems } from '../state/items.js'
import { message } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { useMessageListControls } from './message-context.js'
import { MessageList } from './MessageList.js'
import { ListRow } from './MessageRow.js'

afterEach(cleanup)
let restoreLayout: () => void
beforeAll(() => {
  restoreLayout = fakeLayout()
})
afterAll(() => restoreLayout())

const actions = { retry: async () => null, resend: () => {}, discard: () => {} }

function history(count: number) {
  const start = Date.UTC(2025, 0, 1)
  return Array.from({ length: count }, (_, i) =>
    message({ id: i.toString(16).padStart(32, '0'), orderKey: String(i).padStart(8, '0'), sentAt: start + i * 60_000, body: `message ${i}` }),
  )
}

// The list with 100k messages in a real browser (window of rows, anchoring, keyboard): test/e2e/message-list.test.ts.
// happy-dom has no layout, so only what does not depend on real sizes is tested here.
describe('<MessageList>', () => {
  it('asks for older messages when scrolled near the top', () => {
    const items = buildItems(history(300), [], Date.UTC(2025, 5, 1))
    const onLoadOlder = vi.fn()
    const { container } = render(
      <MessageList
        items={items}
        label="Messages"
        canLoadOlder
        loadingOlder={false}
        onLoadOlder={onLoadOlder}
        onAtBottomChange={() => {}}
        followSignal={0}
        renderItem={(item) => <ListRow item={item} actions={actions} names={new Map()} />}
      />,
    )
    const log = container.querySelector('[role="log"]') as HTMLElement
    expect(log.getAttribute('aria-label')).toBe('Messages')
    expect(log.getAttribute('tabindex')).toBe('0')
    expect(container.querySelectorAll('.message-slot').length).toBeGreaterThan(0)
    log.scrollTop = 0
    fireEvent.scroll(log)
    expect(onLoadOlder).toHaveBeenCalled()
  })

  it('hands its rows the composer hooks; a jump to a message that is not in the history says so', async () => {
    const items = buildItems(history(3), [], Date.UTC(2025, 5, 1))
    const onReply = vi.fn()
    function Probe() {
      const controls = useMessageListControls()
      return (
        <>
          <button type="button" onClick={() => controls.onReply?.(history(1)[0]!)}>
            reply
          </button>
          <button type="button" onClick={() => controls.jumpTo('f'.repeat(32))}>
            jump
          </button>
        </>
      )
    }
    render(
      <MessageList
        items={items}
        label="Messages"
        canLoadOlder={false}
        loadingOlder={false}
        onLoadOlder={() => {}}
        onAtBottomChange={() => {}}
        followSignal={0}
        renderItem={(item) => (item.key === items.at(-1)!.key ? <Probe /> : <ListRow item={item} actions={actions} names={new Map()} />)}
        onReply={onReply}
      />,
    )
    fireEvent.click(screen.getByRole('button', { name: 'reply' }))
    expect(onReply).toHaveBeenCalledWith(expect.objectContaining({ body: 'message 0' }))
    fireEvent.click(screen.getByRole('button', { name: 'jump' }))
    expect((await screen.findByRole('alert')).textContent).toBe('The original message is no longer in this chat.')
  })
})
