/** Renames one of the person's devices; the name shows on every device of theirs (Settings → Devices). */
import { useId, useState, type FormEvent } from 'react'
import type { DeviceView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { Dialog } from './Dialog.js'
import { FieldError } from './FieldError.js'

export function RenameDeviceDialog({ device, onClose }: { device: DeviceView; onClose(): void }) {
  const api = useApi()
  const id = useId()
  const [name, setName] = useState(device.name)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    api.call('devices.rename', { device: device.device, name }).then(
      () => onClose(),
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }
  return (
    <Dialog title="Rename device" onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <label htmlFor={`${id}-name`}>Device name</label>
        <input
          id={`${id}-name`}
          value={name}
          maxLength={64}
          autoFocus
          onChange={(e) => setName(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error !== null ? `${id}-error` : undefined}
        />
        <FieldError id={`${id}-error`} error={error} />
        <div className="button-row">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" disabled={busy || name.trim().length === 0}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
