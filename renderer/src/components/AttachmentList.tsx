import { useMemo, useState, type CSSProperties } from 'react'
import type { AttachmentView, MessageView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { FAMILY_ICON, FAMILY_NAME, fileFamily, isRiskyFile } from '../lib/file-kinds.js'
import { formatBytes, percent } from '../lib/file-size.js'
import { placeholderUrl } from '../lib/thumbhash.js'
import { Dialog } from './Dialog.js'
import { useFocusOnOpen } from './focus-on-open.js'
import { isShownAsImage } from './MediaProvider.js'
import { useMedia } from './media-context.js'
import { useBlobUrl } from './useBlobUrl.js'

/** The photos (a grid) and files (cards) of one message, above its caption. */
export function AttachmentList({ message, authorName }: { message: MessageView; authorName: string }) {
  const attachments = message.attachments ?? []
  if (attachments.length === 0) return null
  const images = attachments.filter(isShownAsImage)
  const files = attachments.filter((a) => !isShownAsImage(a))
  return (
    <div className="attachments">
      {images.length > 0 && (
        <ul className={`attachment-images count-${Math.min(images.length, 4)}`} aria-label={images.length === 1 ? 'Photo' : `${images.length} photos`}>
          {images.map((a) => (
            <li key={a.index}>
              <AttachmentImage message={message} attachment={a} authorName={authorName} single={images.length === 1} />
            </li>
          ))}
        </ul>
      )}
      {files.length > 0 && (
        <ul className="attachment-files" aria-label={files.length === 1 ? 'File' : `${files.length} files`}>
          {files.map((a) => (
            <li key={a.index}>
              <FileCard message={message} attachment={a} />
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

/** Starting, stopping and retrying a download: the core answers, and the state comes back as file.progress events. */
function useFileActions(message: MessageView, attachment: AttachmentView) {
  const api = useApi()
  const [error, setError] = useState<string | null>(null)
  const ref = { conversationId: message.conversation, messageId: message.id, index: attachment.index }
  const run = (method: 'files.download' | 'files.cancel') => {
    setError(null)
    api.call(method, ref).catch((err: unknown) => setError(errorText(err)))
  }
  return { error, setError, download: () => run('files.download'), cancel: () => run('files.cancel') }
}

/** Where a file is, in words (with bytes and percent while it moves). */
export function stateText(a: AttachmentView): string {
  const size = formatBytes(a.size)
  switch (a.state) {
    case 'complete':
      return size
    case 'uploading':
      return `Sending… ${formatBytes(a.received)} of ${size} (${percent(a.received, a.size)} %)`
    case 'downloading':
      return `Downloading… ${formatBytes(a.received)} of ${size} (${percent(a.received, a.size)} %)`
    case 'waiting':
      return `${size} · Waiting for someone who has it to be online`
    case 'available':
      return `${size} · Not downloaded (larger than your automatic download size)`
    case 'failed':
      return `${size} · Not downloaded: ${(a.error ?? 'it could not be fetched').replace(/\.$/, '')}`
    case 'removed':
      return `${size} · Removed from this device`
  }
}

function Progress({ attachment }: { attachment: AttachmentView }) {
  if (attachment.state !== 'downloading' && attachment.state !== 'uploading') return null
  return (
    <progress
      className="attachment-progress"
      max={Math.max(1, attachment.size)}
      value={attachment.received}
      aria-label={`${attachment.name}: ${attachment.state === 'uploading' ? 'sending' : 'downloading'}`}
    />
  )
}

/** The buttons a file's state allows: download when it waits for a click, cancel while it moves, retry when it failed. */
function TransferButtons({ attachment, actions, mine }: { attachment: AttachmentView; actions: ReturnType<typeof useFileActions>; mine: boolean }) {
  const name = attachment.name
  switch (attachment.state) {
    case 'available':
      return (
        <button type="button" className="link-button" aria-label={`Download ${name}`} onClick={actions.download}>
          Download
        </button>
      )
    case 'downloading':
      return (
        <button type="button" className="link-button" aria-label={`Cancel download of ${name}`} onClick={actions.cancel}>
          Cancel
        </button>
      )
    case 'waiting':
      // Someone who has it may be back before the core next tries by itself (or the download was stopped halfway).
      return (
        <>
          <button type="button" className="link-button" aria-label={`Try downloading ${name} now`} onClick={actions.download}>
            Try now
          </button>
          <button type="button" className="link-button" aria-label={`Cancel download of ${name}`} onClick={actions.cancel}>
            Cancel
          </button>
        </>
      )
    case 'failed':
      return (
        <button type="button" className="link-button" aria-label={`Retry download of ${name}`} onClick={actions.download}>
          Retry
        </button>
      )
    case 'removed':
      // Removed from this device (Clear media, or for room): whoever still has it can send it again. Our own file has
      // no one to come from but us.
      return mine ? null : (
        <button type="button" className="link-button" aria-label={`Download again: ${name}`} onClick={actions.download}>
          Download again
        </button>
      )
    default:
      return null
  }
}

function AttachmentImage({ message, attachment, authorName, single }: { message: MessageView; attachment: AttachmentView; authorName: string; single: boolean }) {
  const media = useMedia()
  const actions = useFileActions(message, attachment)
  const complete = attachment.state === 'complete'
  const ref = complete ? { conversationId: message.conversation, messageId: message.id, index: attachment.index } : null
  const loaded = useBlobUrl(media?.urls ?? null, ref, attachment.size, attachment.mime)
  // Drawing the placeholder makes a small PNG: once per hash, not on every progress event.
  const placeholder = useMemo(() => placeholderUrl(attachment.thumbhash), [attachment.thumbhash])
  const { width, height } = attachment
  // The box has the photo's shape from the start, so nothing jumps when the photo replaces its placeholder.
  const style: CSSProperties | undefined = single && width !== undefined && height !== undefined ? { aspectRatio: boxRatio(width, height) } : undefined
  const alt = `Photo ${attachment.name} from ${authorName}`
  const picture =
    loaded.url !== null ? (
      <img className="attachment-image-full" src={loaded.url} alt={alt} />
    ) : (
      <>
        {placeholder !== null && <img className="attachment-image-placeholder" src={placeholder} alt="" />}
        <span className="visually-hidden">{alt}</span>
      </>
    )
  const status = complete ? (loaded.error ?? null) : stateText(attachment)
  return (
    <figure className={`attachment-image is-${attachment.state}`} style={style}>
      {complete && media !== null ? (
        <button type="button" className="attachment-image-open" aria-label={`Open ${alt}`} onClick={() => media.openViewer(message.id, attachment.index)}>
          {picture}
        </button>
      ) : (
        <div className="attachment-image-open">{picture}</div>
      )}
      {status !== null && (
        <figcaption className="attachment-image-status">
          <span>{status}</span>
          <Progress attachment={attachment} />
          <TransferButtons attachment={attachment} actions={actions} mine={message.mine} />
        </figcaption>
      )}
      {message.mine && attachment.receivedBy !== undefined && (
        <div className="attachment-image-receipts">
          <FileReceipts attachment={attachment} />
        </div>
      )}
      {actions.error !== null && (
        <p className="row-problem" role="alert">
          {actions.error}
        </p>
      )}
    </figure>
  )
}

/**
 * The shape of a single photo's box: the photo's own, within 1:3 and 3:1. The sizes come from the sender's message; a
 * panorama (or a hostile 1×65535) is shown cropped in a box that still fits a chat.
 */
export function boxRatio(width: number, height: number): number {
  if (!(width > 0 && height > 0)) return 1
  return Math.min(3, Math.max(1 / 3, width / height))
}

function FileCard({ message, attachment }: { message: MessageView; attachment: AttachmentView }) {
  const media = useMedia()
  const actions = useFileActions(message, attachment)
  // Which action waits for the person to confirm the warning about a risky file.
  const [confirming, setConfirming] = useState<'save' | 'open' | null>(null)
  const [busy, setBusy] = useState<'save' | 'open' | null>(null)
  const [note, setNote] = useState<string | null>(null)
  const family = fileFamily(attachment.mime)
  const risky = isRiskyFile(attachment.name, attachment.mime, attachment.risky === true)
  const run = (what: 'save' | 'open') => {
    if (media === null) return
    setConfirming(null)
    setBusy(what)
    setNote(null)
    actions.setError(null)
    const file = { messageId: message.id, index: attachment.index, name: attachment.name, size: attachment.size, mime: attachment.mime }
    const done = what === 'save' ? media.save(file).then((error) => ({ error, note: null })) : media.open(file)
    void done.then((outcome) => {
      setBusy(null)
      actions.setError(outcome.error)
      setNote(outcome.note)
    })
  }
  const ask = (what: 'save' | 'open') => (risky ? setConfirming(what) : run(what))
  return (
    <div className={`file-card is-${attachment.state}${risky ? ' risky' : ''}`}>
      <span className="file-card-icon" aria-hidden="true">
        {FAMILY_ICON[family]}
      </span>
      <div className="file-card-text">
        <span className="file-card-name">{attachment.name}</span>
        <span className="file-card-detail muted small">
          {FAMILY_NAME[family]} · {stateText(attachment)}
        </span>
        <Progress attachment={attachment} />
        {risky && attachment.state === 'complete' && <span className="file-card-warning small">This type of file can run programs on your computer.</span>}
        {message.mine && <FileReceipts attachment={attachment} />}
      </div>
      <div className="file-card-actions">
        {attachment.state === 'complete' && media !== null && (
          <>
            <button type="button" className="link-button" aria-label={`Open ${attachment.name}`} disabled={busy !== null} onClick={() => ask('open')}>
              {busy === 'open' ? 'Opening…' : 'Open'}
            </button>
            <button type="button" className="link-button" aria-label={`Save ${attachment.name}`} disabled={busy !== null} onClick={() => ask('save')}>
              {busy === 'save' ? 'Saving…' : 'Save'}
            </button>
          </>
        )}
        <TransferButtons attachment={attachment} actions={actions} mine={message.mine} />
      </div>
      {actions.error !== null && (
        <p className="row-problem" role="alert">
          {actions.error}
        </p>
      )}
      <p className="file-card-note muted small" role="status">
        {note}
      </p>
      {confirming !== null && (
        <RiskyFileDialog
          name={attachment.name}
          action={confirming}
          opensWithSystem={media?.opensWithSystem === true}
          onConfirm={() => run(confirming)}
          onClose={() => setConfirming(null)}
        />
      )}
    </div>
  )
}

function RiskyFileDialog(props: { name: string; action: 'save' | 'open'; opensWithSystem: boolean; onConfirm(): void; onClose(): void }) {
  const { name, action, onConfirm, onClose } = props
  // Focus starts on Cancel: the safe answer is the one Enter gives.
  const cancel = useFocusOnOpen<HTMLButtonElement>()
  const what =
    action === 'save'
      ? 'Hearth never opens files itself.'
      : props.opensWithSystem
        ? 'Hearth will not run it: it saves it in your Downloads folder, under Hearth, and shows it there.'
        : 'Hearth will not run it: your browser downloads it, or shows it as plain text.'
  return (
    <Dialog
      title={action === 'save' ? 'Save a file that can run programs?' : 'Open a file that can run programs?'}
      onClose={onClose}
      description={`“${name}” is a kind of file that can run programs or change your computer when it is opened.`}
    >
      <p>
        {what} Only open it if you expected it from this person and trust where it came from.
      </p>
      <div className="button-row">
        <button ref={cancel} type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          {action === 'save' ? 'Save anyway' : 'Continue'}
        </button>
      </div>
    </Dialog>
  )
}

/**
 * On the sender's side: which member devices fetched the file from this device ("Received by 2 of 3"), each with how
 * far it got, in a disclosure the keyboard and screen readers handle natively.
 */
export function FileReceipts({ attachment }: { attachment: AttachmentView }) {
  const { receivedBy, recipients } = attachment
  if (receivedBy === undefined || recipients === undefined || recipients === 0) return null
  const received = receivedBy.filter((r) => r.complete).length
  const perAccount = new Map<string, number>()
  for (const r of receivedBy) perAccount.set(r.account, (perAccount.get(r.account) ?? 0) + 1)
  return (
    <details className="file-receipts small">
      <summary>
        Received by {received} of {recipients}
      </summary>
      {receivedBy.length === 0 ? (
        <p className="muted">No one has fetched it from this device yet.</p>
      ) : (
        <ul aria-label={`Who received ${attachment.name}`}>
          {receivedBy.map((r) => (
            <li key={r.device}>
              {r.displayName}
              {(perAccount.get(r.account) ?? 0) > 1 && <span className="muted"> (device {r.device.slice(0, 6)})</span>}
              {' · '}
              {r.complete ? 'received' : `${percent(r.received, attachment.size)} %`}
            </li>
          ))}
        </ul>
      )}
      <p className="muted">Counts the devices that fetched it from this one; someone who got it from another member or a relay is not counted.</p>
    </details>
  )
}
