import { useCallback, useEffect, useId, useState } from 'react'
import type { ConversationSummary, FileUsageView, SettingsView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { formatBytes } from '../lib/file-size.js'
import { Dialog, ErrorNote } from './Dialog.js'
import { useFocusOnOpen } from './focus-on-open.js'

const MB = 1024 * 1024
const DOWNLOAD_SIZES = [0, 1 * MB, 5 * MB, 10 * MB, 25 * MB, 50 * MB, 100 * MB]
const SEND_LIMITS = [10 * MB, 25 * MB, 50 * MB, 100 * MB, 250 * MB, 500 * MB, 1024 * MB]
const GB = 1024 * MB
const KEEP_SIZES = [0, 1 * GB, 5 * GB, 10 * GB, 50 * GB, 100 * GB]

type MediaPatch = Partial<Pick<SettingsView, 'autoDownloadPeerBytes' | 'autoDownloadRelayBytes' | 'maxFileBytes' | 'keepReceivedBytes'>>

function sizeLabel(bytes: number): string {
  return bytes === 0 ? 'Never (only when I click)' : `Up to ${formatBytes(bytes)}`
}

/** A choice among sizes; a value set elsewhere (the CLI) is kept as one more choice rather than lost. */
function SizeSelect({ label, help, value, sizes, label0, disabled, onChange }: {
  label: string
  help: string
  value: number
  sizes: number[]
  label0?: (bytes: number) => string
  disabled: boolean
  onChange(bytes: number): void
}) {
  const id = useId()
  const options = sizes.includes(value) ? sizes : [...sizes, value].sort((a, b) => a - b)
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} aria-describedby={`${id}-help`} onChange={(e) => onChange(Number(e.target.value))}>
        {options.map((bytes) => (
          <option key={bytes} value={bytes}>
            {(label0 ?? sizeLabel)(bytes)}
          </option>
        ))}
      </select>
      <p id={`${id}-help`} className="muted small">
        {help}
      </p>
    </div>
  )
}

/**
 * Settings for photos and files: what downloads by itself (from members' devices, and through relays, which cost the
 * relay's storage and are often slower), the largest file this device sends, how much room received files may take,
 * and the space each conversation's files take here, with a way to clear them (the messages stay; their files say
 * they were removed from this device).
 */
export function MediaSettings({ settings, onSaved }: { settings: SettingsView | null; onSaved(next: SettingsView): void }) {
  const api = useApi()
  const id = useId()
  const [error, setError] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)
  const [usage, setUsage] = useState<FileUsageView[] | null>(null)
  const [names, setNames] = useState<Map<string, string>>(new Map())
  const [clearing, setClearing] = useState<string | null>(null)
  const [usageError, setUsageError] = useState<string | null>(null)
  const [cleared, setCleared] = useState('')

  const loadUsage = useCallback(() => {
    api.call('files.usage').then(setUsage, (err: unknown) => setUsageError(errorText(err)))
  }, [api])
  useEffect(() => {
    loadUsage()
    api.call('conversations.list').then(
      (list: ConversationSummary[]) => setNames(new Map(list.map((c) => [c.id, c.name]))),
      () => {},
    )
  }, [api, loadUsage])

  const save = (patch: MediaPatch) => {
    setSaving(true)
    setError(null)
    api.call('settings.update', patch).then(
      (next) => {
        setSaving(false)
        onSaved(next)
      },
      (err: unknown) => {
        setSaving(false)
        setError(errorText(err))
      },
    )
  }

  const clear = (conversationId: string) => {
    setClearing(null)
    setUsageError(null)
    api.call('files.clear', { conversationId }).then(
      () => {
        setCleared(`Cleared the photos and files of ${names.get(conversationId) ?? 'that conversation'} from this device.`)
        loadUsage()
      },
      (err: unknown) => setUsageError(errorText(err)),
    )
  }

  const stored = (usage ?? []).filter((u) => u.bytes > 0).sort((a, b) => b.bytes - a.bytes)
  const total = stored.reduce((n, u) => n + u.bytes, 0)
  const disabled = settings === null || saving
  return (
    <section aria-labelledby={`${id}-media`} className="settings-section">
      <h3 id={`${id}-media`}>Photos and files</h3>
      {settings !== null && (
        <>
          <SizeSelect
            label="Download by themselves from members’ devices"
            help="Larger files wait for you to click Download."
            value={settings.autoDownloadPeerBytes}
            sizes={DOWNLOAD_SIZES}
            disabled={disabled}
            onChange={(bytes) => save({ autoDownloadPeerBytes: bytes })}
          />
          <SizeSelect
            label="Download by themselves through relays"
            help="When no member who has a file is online, a relay may keep it for you; this is often slower, and may cost data."
            value={settings.autoDownloadRelayBytes}
            sizes={DOWNLOAD_SIZES}
            disabled={disabled}
            onChange={(bytes) => save({ autoDownloadRelayBytes: bytes })}
          />
          <SizeSelect
            label="Largest file I send"
            help="Photos are resized before sending, so they are rarely large. Everyone in the conversation downloads what you send."
            value={settings.maxFileBytes}
            sizes={SEND_LIMITS}
            label0={(bytes) => formatBytes(bytes)}
            disabled={disabled}
            onChange={(bytes) => save({ maxFileBytes: bytes })}
          />
          <SizeSelect
            label="Keep received photos and files up to"
            help="Beyond this, the ones you opened least recently are removed from this device; you can download them again while someone who has them is online. Files you sent are never removed."
            value={settings.keepReceivedBytes}
            sizes={KEEP_SIZES}
            label0={(bytes) => (bytes === 0 ? 'No limit' : formatBytes(bytes))}
            disabled={disabled}
            onChange={(bytes) => save({ keepReceivedBytes: bytes })}
          />
        </>
      )}
      <ErrorNote error={error} />

      <h4 className="subheading">Stored on this device</h4>
      <ErrorNote error={usageError} />
      {usage === null ? (
        usageError === null && <p className="muted small">Counting…</p>
      ) : stored.length === 0 ? (
        <p className="muted small">No photos or files are stored on this device.</p>
      ) : (
        <>
          <p className="small">
            {formatBytes(total)} in {stored.length} {stored.length === 1 ? 'conversation' : 'conversations'}.
          </p>
          <ul className="media-usage" aria-label="Storage by conversation">
            {stored.map((u) => {
              const name = names.get(u.conversationId) ?? 'A conversation'
              return (
                <li key={u.conversationId}>
                  <span className="media-usage-name">{name}</span>
                  <span className="muted small">{formatBytes(u.bytes)}</span>
                  <button type="button" className="danger-link" aria-label={`Clear media of ${name}`} onClick={() => setClearing(u.conversationId)}>
                    Clear media
                  </button>
                </li>
              )
            })}
          </ul>
        </>
      )}
      <p className="muted small" role="status">
        {cleared}
      </p>
      {clearing !== null && (
        <ConfirmClearDialog name={names.get(clearing) ?? 'this conversation'} onConfirm={() => clear(clearing)} onClose={() => setClearing(null)} />
      )}
    </section>
  )
}

function ConfirmClearDialog({ name, onConfirm, onClose }: { name: string; onConfirm(): void; onClose(): void }) {
  const cancel = useFocusOnOpen<HTMLButtonElement>()
  return (
    <Dialog
      title={`Clear the media of ${name}?`}
      description="Its photos and files are removed from this device. The messages stay, and say their files were removed; others keep their copies."
      onClose={onClose}
    >
      <div className="button-row">
        <button ref={cancel} type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          Clear media
        </button>
      </div>
    </Dialog>
  )
}
