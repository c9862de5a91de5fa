/**
 * happy-dom has no layout engine: every box measures 0×0, so a virtualized list would render nothing. Tests that
 * need the message list give it a viewport and rows a height, the way a browser would.
 */
import { vi } from 'vitest'

export function fakeLayout(viewport = { width: 800, height: 600 }, rowHeight = 64): () => void {
  const rect = (width: number, height: number) => ({ x: 0, y: 0, top: 0, left: 0, width, height, right: width, bottom: height, toJSON: () => ({}) })
  const spy = vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function (this: HTMLElement) {
    return (this.classList.contains('message-scroll') ? rect(viewport.width, viewport.height) : rect(viewport.width, rowHeight)) as DOMRect
  })
  const height = vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockImplementation(function (this: HTMLElement) {
    return this.classList.contains('message-scroll') ? viewport.height : 0
  })
  return () => {
    spy.mockRestore()
    height.mockRestore()
  }
}
