import { createContext, useContext } from 'react'
import type { BlobUrlCache } from '../lib/blob-url.js'

/** What a chat gives the photos and files of its messages: one URL cache, and the viewer over all its photos. */
export interface MediaControls {
  urls: BlobUrlCache
  /** Opens the viewer on one photo of one message. */
  openViewer(messageId: string, index: number): void
  /** Saves a complete file (the whole file is read from the core first). Resolves with an error text, or null. */
  save(ref: FileOfMessage): Promise<string | null>
  /**
   * Opens a complete file (call it inside the person's click): on the desktop with the system's app, a file that could
   * run code only shown in its folder; in a browser in a tab for types a tab shows safely, saved otherwise. Resolves
   * with an error text or null, and a note for the person when it was shown in its folder rather than opened.
   */
  open(ref: FileOfMessage): Promise<{ error: string | null; note: string | null }>
  /** On the desktop: Open hands files to the system (risky ones only shown in their folder). In a browser: false. */
  opensWithSystem: boolean
}

export interface FileOfMessage {
  messageId: string
  index: number
  name: string
  size: number
  mime: string
}

export const MediaContext = createContext<MediaControls | null>(null)

/** Null outside a chat (a bubble rendered on its own shows placeholders and file cards without actions). */
export function useMedia(): MediaControls | null {
  return useContext(MediaContext)
}
