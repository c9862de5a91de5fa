import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react'
import type { AttachmentView, MessageView } from '../../../node/src/api/types.js'
import { errorText, type Api } from '../api/client.js'
import { BlobUrlCache, readFile } from '../lib/blob-url.js'
import { saveBlob } from '../lib/save-file.js'
import { ImageViewer, type ViewerImage } from './ImageViewer.js'
import { MediaContext, type MediaControls } from './media-context.js'

export interface MediaProviderProps {
  api: Api
  conversationId: string
  /** The chat's loaded messages: the viewer moves across their photos. */
  messages: readonly MessageView[]
  names: ReadonlyMap<string, string>
  children: ReactNode
  /** For tests: how a file is handed to the person (a browser download by default). */
  saveFile?: (blob: Blob, name: string) => void
}

/** One chat's photos and files: the object URLs they are shown through, saving, and the viewer. */
export function MediaProvider({ api, conversationId, messages, names, children, saveFile = saveBlob }: MediaProviderProps) {
  const urls = useMemo(() => new BlobUrlCache(api), [api])
  useEffect(() => () => urls.clear(), [urls])
  const [viewing, setViewing] = useState<{ messageId: string; index: number } | null>(null)

  const save = useCallback<MediaControls['save']>(
    async ({ messageId, index, name, size, mime }) => {
      try {
        saveFile(await readFile(api, { conversationId, messageId, index }, size, mime), name)
        return null
      } catch (err) {
        return errorText(err)
      }
    },
    [api, conversationId, saveFile],
  )

  const controls = useMemo<MediaControls>(() => ({ urls, openViewer: (messageId, index) => setViewing({ messageId, index }), save }), [urls, save])
  const images = useMemo(() => viewerImages(messages, names), [messages, names])

  return (
    <MediaContext.Provider value={controls}>
      {children}
      {viewing !== null && (
        <ImageViewer
          conversationId={conversationId}
          images={images}
          start={viewing}
          urls={urls}
          onSave={save}
          onClose={() => setViewing(null)}
        />
      )}
    </MediaContext.Provider>
  )
}

/** Every photo of the loaded messages, oldest first (the order of the chat). */
export function viewerImages(messages: readonly MessageView[], names: ReadonlyMap<string, string>): ViewerImage[] {
  const out: ViewerImage[] = []
  for (const m of messages) {
    if (m.deleted || m.withdrawn || m.hidden === true) continue
    for (const a of m.attachments ?? []) {
      if (isShownAsImage(a)) out.push({ messageId: m.id, attachment: a, authorName: names.get(m.author) ?? m.authorName, sentAt: m.sentAt })
    }
  }
  return out
}

/** A photo is drawn as one only if the core found image bytes of a type the page may show. */
export function isShownAsImage(a: AttachmentView): boolean {
  return a.kind === 'image' && /^image\/(jpeg|png|gif|webp|bmp|avif)$/.test(a.mime)
}
