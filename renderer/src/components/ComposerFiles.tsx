import type { PendingFile } from '../hooks/usePendingFiles.js'
import { formatBytes } from '../lib/file-size.js'

/** The photos and files waiting in the composer, each with its size and a way to take it out again. */
export function ComposerFiles({ files, onRemove }: { files: PendingFile[]; onRemove(id: number): void }) {
  const photos = files.some((f) => f.ready?.kind === 'image')
  return (
    <div className="composer-files">
      <ul className="composer-file-list" aria-label="Files to send">
        {files.map((f) => (
          <li key={f.id} className="composer-file">
            {f.preview !== null ? (
              <img className="composer-file-preview" src={f.preview} alt="" />
            ) : (
              <span className="composer-file-icon" aria-hidden="true">
                {f.ready === null ? '⏳' : '📄'}
              </span>
            )}
            <span className="composer-file-text">
              <span className="composer-file-name">{f.name}</span>
              <span className="composer-file-size muted small">{f.ready === null ? 'Preparing…' : formatBytes(f.size)}</span>
            </span>
            <button type="button" className="icon-button composer-file-remove" aria-label={`Remove ${f.name}`} onClick={() => onRemove(f.id)}>
              <span aria-hidden="true">×</span>
            </button>
          </li>
        ))}
      </ul>
      {photos && <p className="muted small composer-files-note">Photos are resized and their location data removed before sending.</p>}
    </div>
  )
}
