import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react'
import type { AttachmentView, MessageView } from '../../../node/src/api/types.js'
import { errorText, type Api } from '../api/client.js'
import { BlobUrlCache, readFile } from '../lib/blob-url.js'
import { browserTabTarget, desktopOpener, inlineType, showInTab, type DesktopOpen, type TabTarget } from '../lib/open-file.js'
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
  /** For tests: the desktop shell's Open (by default window.hearth.openFile when there is one). */
  desktopOpen?: DesktopOpen | null
  /** For tests: how a browser opens a tab for a file. */
  tabs?: TabTarget
}

/** One chat's photos and files: the object URLs they are shown through, saving, and the viewer. */
export function MediaProvider({ api, conversationId, messages, names, children, saveFile = saveBlob, desktopOpen, tabs = browserTabTarget }: MediaProviderProps) {
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

  const shell = useMemo(() => (desktopOpen === undefined ? desktopOpener() : desktopOpen), [desktopOpen])
  const open = useCallback<MediaControls['open']>(
    async (file) => {
      const ref = { conversationId, messageId: file.messageId, index: file.index }
      try {
        if (shell !== null) {
          const { action } = await shell(ref)
          return { error: null, note: action === 'shown' ? `“${file.name}” was saved in Downloads › Hearth and is shown in its folder.` : null }
        }
        const type = inlineType(file.mime)
        // Opened now, inside the click: after the read it would be blocked as a pop-up. Refused: saved instead.
        const tab = type === null ? null : tabs.openBlank()
        let blob: Blob
        try {
          blob = await readFile(api, ref, file.size, file.mime)
        } catch (err) {
          tab?.close()
          throw err
        }
        if (tab === null || type === null) saveFile(blob, file.name)
        else showInTab(tab, blob, type, tabs)
        return { error: null, note: null }
      } catch (err) {
        return { error: errorText(err), note: null }
      }
    },
    [api, conversationId, shell, tabs, saveFile],
  )

  const controls = useMemo<MediaControls>(
    () => ({ urls, openViewer: (messageId, index) => setViewing({ messageId, index }), save, open, opensWithSystem: shell !== null }),
    [urls, save, open, shell],
  )
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
