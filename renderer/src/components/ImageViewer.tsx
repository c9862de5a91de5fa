import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import type { AttachmentView } from '../../../node/src/api/types.js'
import type { BlobUrlCache } from '../lib/blob-url.js'
import { fullWhen } from '../lib/time.js'
import { placeholderUrl } from '../lib/thumbhash.js'
import { useBlobUrl } from './useBlobUrl.js'

export interface ViewerImage {
  messageId: string
  attachment: AttachmentView
  authorName: string
  sentAt: number
}

export interface ImageViewerProps {
  conversationId: string
  images: readonly ViewerImage[]
  start: { messageId: string; index: number }
  urls: BlobUrlCache
  onSave(ref: { messageId: string; index: number; name: string; size: number; mime: string }): Promise<string | null>
  onClose(): void
}

/**
 * The photos of a chat, one at a time, over everything else: a modal <dialog> (the browser keeps focus inside and
 * makes the chat behind inert), Escape closes, the arrow keys and the buttons go to the previous or next photo of
 * the loaded messages, Save keeps a copy. Focus returns to the photo that opened it.
 */
export function ImageViewer({ conversationId, images, start, urls, onSave, onClose }: ImageViewerProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const id = useId()
  const [current, setCurrent] = useState(start)
  const [saveError, setSaveError] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)
  const at = images.findIndex((i) => i.messageId === current.messageId && i.attachment.index === current.index)
  const image = at === -1 ? undefined : images[at]

  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (!dialog.open && typeof dialog.showModal === 'function') dialog.showModal()
    dialog.focus()
    return () => {
      if (dialog.open) dialog.close()
      opener?.focus()
    }
  }, [])

  // The photo was deleted (or its message) while shown: nothing left to show.
  useEffect(() => {
    if (image === undefined) onClose()
  }, [image, onClose])

  const go = (step: number) => {
    const next = images[at + step]
    if (next === undefined) return
    setSaveError(null)
    setCurrent({ messageId: next.messageId, index: next.attachment.index })
  }

  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key === 'ArrowLeft') go(-1)
    else if (event.key === 'ArrowRight') go(1)
    else if (event.key === 'Escape') {
      // Closed here rather than by the browser, so React owns the open state (the cancel event follows otherwise).
      event.preventDefault()
      onClose()
      return
    } else return
    event.preventDefault()
  }

  const save = () => {
    if (image === undefined) return
    const a = image.attachment
    setSaving(true)
    setSaveError(null)
    void onSave({ messageId: image.messageId, index: a.index, name: a.name, size: a.size, mime: a.mime }).then((error) => {
      setSaving(false)
      setSaveError(error)
    })
  }

  return (
    <dialog
      ref={ref}
      className="image-viewer"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-position`}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        event.preventDefault()
        onClose()
      }}
    >
      {image !== undefined && (
        <>
          <div className="image-viewer-header">
            <div className="image-viewer-title">
              <h2 id={`${id}-title`}>{image.attachment.name}</h2>
              <p className="muted small" id={`${id}-position`}>
                {`Photo ${at + 1} of ${images.length}, from ${image.authorName}, ${fullWhen(image.sentAt)}`}
              </p>
            </div>
            <div className="image-viewer-actions">
              <button type="button" onClick={save} disabled={saving || image.attachment.state !== 'complete'}>
                {saving ? 'Saving…' : 'Save'}
              </button>
              <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
                <span aria-hidden="true">×</span>
              </button>
            </div>
          </div>
          {saveError !== null && (
            <p className="error-note" role="alert">
              {saveError}
            </p>
          )}
          <div className="image-viewer-stage">
            <button type="button" className="image-viewer-step" aria-label="Previous photo" onClick={() => go(-1)} disabled={at <= 0}>
              <span aria-hidden="true">‹</span>
            </button>
            <ViewerPicture key={`${image.messageId}/${image.attachment.index}`} conversationId={conversationId} image={image} urls={urls} />
            <button type="button" className="image-viewer-step" aria-label="Next photo" onClick={() => go(1)} disabled={at >= images.length - 1}>
              <span aria-hidden="true">›</span>
            </button>
          </div>
        </>
      )}
    </dialog>
  )
}

function ViewerPicture({ conversationId, image, urls }: { conversationId: string; image: ViewerImage; urls: BlobUrlCache }) {
  const a = image.attachment
  const complete = a.state === 'complete'
  const loaded = useBlobUrl(urls, complete ? { conversationId, messageId: image.messageId, index: a.index } : null, a.size, a.mime)
  const placeholder = useMemo(() => placeholderUrl(a.thumbhash), [a.thumbhash])
  const alt = `Photo ${a.name} from ${image.authorName}`
  if (loaded.url !== null) return <img className="image-viewer-image" src={loaded.url} alt={alt} />
  return (
    <div className="image-viewer-image placeholder-image" role="img" aria-label={`${alt} (${complete ? 'loading' : 'not on this device yet'})`}>
      {placeholder !== null && <img src={placeholder} alt="" />}
      {loaded.error !== null && <p className="image-viewer-note">{loaded.error}</p>}
    </div>
  )
}
