import type { MessageView, Page } from '../../node/src/api/types.js'

/**
 * A conversation's whole history, oldest first, read page by page the way a screen scrolls back: each page is oldest
 * first and the pages come newest first. (Reversing one flat list of them scrambles the order within each page, and
 * cores whose pages split differently then look differently ordered.)
 */
export async function wholeHistory(page: (before: string | undefined) => Promise<Page>): Promise<MessageView[]> {
  const pages: MessageView[][] = []
  let before: string | undefined
  for (;;) {
    const next = await page(before)
    pages.unshift(next.messages)
    if (next.nextBefore === null) break
    before = next.nextBefore
  }
  return pages.flat()
}
