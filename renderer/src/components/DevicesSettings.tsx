/**
 * Settings → Devices: this account's devices (this one first) by name and kind, whether each is online or when it was
 * last seen, a way to link a new one (LinkDeviceDialog.tsx), to rename any and to revoke another one. Revoking moves every conversation to new keys
 * the device never gets; the device itself wipes its keys and data when it next connects and hears of it.
 */
import { useEffect, useId, useState } from 'react'
import type { DeviceView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { fullWhen, shortWhen } from '../lib/time.js'
import { Dialog, ErrorNote } from './Dialog.js'
import { LinkDeviceDialog } from './LinkDeviceDialog.js'
import { RenameDeviceDialog } from './RenameDeviceDialog.js'

/** A device by the name the person gave it (its computer's name until then). */
function deviceLabel(device: DeviceView): string {
  return device.name
}

function seen(device: DeviceView, now: number): string {
  if (device.current) return 'In use now'
  if (device.online) return 'Online now'
  if (device.lastSeen === null) return 'Not seen since Hearth started'
  return `Last seen ${shortWhen(device.lastSeen, now)}`
}

export function DevicesSettings() {
  const api = useApi()
  const id = useId()
  const [devices, setDevices] = useState<DeviceView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [linking, setLinking] = useState(false)
  const [revoking, setRevoking] = useState<DeviceView | null>(null)
  const [renaming, setRenaming] = useState<DeviceView | null>(null)
  const [note, setNote] = useState<string | null>(null)
  const [now, setNow] = useState(() => Date.now())

  useEffect(() => {
    // "Last seen" reads relative to now: keep it current while Settings stays open.
    const timer = setInterval(() => setNow(Date.now()), 60_000)
    return () => clearInterval(timer)
  }, [])

  useEffect(() => {
    let alive = true
    api.call('devices.list').then(
      (list) => alive && setDevices(list),
      (err: unknown) => alive && setError(errorText(err)),
    )
    const off = api.on('devices.changed', ({ devices: list }) => setDevices(list))
    return () => {
      alive = false
      off()
    }
  }, [api])

  return (
    <section aria-labelledby={`${id}-devices`} className="settings-section">
      <h3 id={`${id}-devices`}>Devices</h3>
      <p className="muted small">Every device here reads and writes as you, in all your conversations.</p>
      <ErrorNote error={error} />
      {devices !== null && (
        <ul className="device-list" aria-label="Your devices">
          {devices.map((d) => (
            <li key={d.device} className="device-row">
              <span className="device-text">
                <span className="device-name">
                  {deviceLabel(d)}
                  {d.current && <span className="muted"> (this device)</span>}
                </span>
                <span className="muted small">
                  {d.kind !== '' && `${d.kind} · `}
                  Linked <time dateTime={new Date(d.linkedAt).toISOString()} title={fullWhen(d.linkedAt)}>{shortWhen(d.linkedAt, now)}</time>
                  {' · '}
                  <span className={d.online ? 'device-online' : undefined}>{seen(d, now)}</span>
                </span>
              </span>
              <button type="button" className="link" aria-label={`Rename ${deviceLabel(d)}`} onClick={() => setRenaming(d)}>
                Rename
              </button>
              {!d.current && (
                <button type="button" className="danger-link" aria-label={`Revoke ${deviceLabel(d)}`} onClick={() => setRevoking(d)}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {note !== null && (
        <p className="small" role="status">
          {note}
        </p>
      )}
      <div className="button-row start">
        <button type="button" onClick={() => setLinking(true)}>
          Link a new device
        </button>
      </div>
      {linking && <LinkDeviceDialog onClose={() => setLinking(false)} />}
      {renaming !== null && <RenameDeviceDialog device={renaming} onClose={() => setRenaming(null)} />}
      {revoking !== null && (
        <RevokeDeviceDialog
          device={revoking}
          onClose={() => setRevoking(null)}
          onRevoked={() => {
            setNote(`${deviceLabel(revoking)} was revoked. It wipes itself when it next connects.`)
            setRevoking(null)
          }}
        />
      )}
    </section>
  )
}

function RevokeDeviceDialog({ device, onClose, onRevoked }: { device: DeviceView; onClose(): void; onRevoked(): void }) {
  const api = useApi()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const revoke = () => {
    setBusy(true)
    setError(null)
    api.call('devices.revoke', { device: device.device }).then(
      () => onRevoked(),
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }
  return (
    <Dialog title={`Revoke ${deviceLabel(device)}?`} onClose={onClose}>
      <div className="stack">
        <p>
          It stops reading anything new: your conversations move to new keys it never gets, and the people in them stop
          accepting what it writes.
        </p>
        <p>
          What it already has stays on it until it next connects to one of your devices or your contacts; then it wipes
          its keys, messages and files. If it was lost or stolen, revoke it now.
        </p>
        <ErrorNote error={error} />
        <div className="button-row">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={revoke} disabled={busy}>
            {busy ? 'Revoking…' : 'Revoke device'}
          </button>
        </div>
      </div>
    </Dialog>
  )
}
