import { createContext, useContext } from 'react'
import type { BlobUrlCache } from '../lib/blob-url.js'

/** What a chat gives the photos and files of its messages: one URL cache, and the viewer over all its photos. */
export interface MediaControls {
  urls: BlobUrlCache
  /** Opens the viewer on one photo of one message. */
  openViewer(messageId: string, index: number): void
  /** Saves a complete file (the whole file is read from the core first). Resolves with an error text, or null. */
  save(ref: { messageId: string; index: number; name: string; size: number; mime: string }): Promise<string | null>
}

export const MediaContext = createContext<MediaControls | null>(null)

/** Null outside a chat (a bubble rendered on its own shows placeholders and file cards without actions). */
export function useMedia(): MediaControls | null {
  return useContext(MediaContext)
}
