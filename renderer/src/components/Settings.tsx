import { Fragment, useEffect, useId, useState, type FormEvent } from 'react'
import type { NetworkStatus } from '../../../node/src/api/contract.js'
import type { AppInfo, SettingsView, WhoAmI } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { AccountSettings } from './AccountSettings.js'
import { DevicesSettings } from './DevicesSettings.js'
import { useApi } from '../api/context.js'
import { ErrorNote } from './Dialog.js'
import { FieldError, invalidWhen } from './FieldError.js'
import { MediaSettings } from './MediaSettings.js'

type RelayStatus = NetworkStatus['relays'][number]

const RELAY_STATE: Record<RelayStatus['state'], string> = {
  ok: 'working',
  refused: 'refused',
  unreachable: 'not reachable',
  unknown: 'not tried yet',
}

function RelayState({ status }: { status: RelayStatus | undefined }) {
  if (status === undefined) return <span className="muted small">not tried yet</span>
  return (
    <span className={`relay-state relay-${status.state} small`} data-relay-state={status.state}>
      {RELAY_STATE[status.state]}
      {status.detail !== null && status.state !== 'ok' ? `: ${status.detail}` : ''}
    </span>
  )
}

/** Settings: who you are, relays, where data lives, versions and network identity. */
export function Settings({ onClose, onNameChanged }: { onClose(): void; onNameChanged?(displayName: string): void }) {
  const api = useApi()
  const id = useId()
  const [settings, setSettings] = useState<SettingsView | null>(null)
  const [info, setInfo] = useState<AppInfo | null>(null)
  const [me, setMe] = useState<WhoAmI | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [relayInput, setRelayInput] = useState('')
  const [relayError, setRelayError] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)
  const [relayStatus, setRelayStatus] = useState<RelayStatus[]>([])
  const [nameInput, setNameInput] = useState<string | null>(null)
  const [nameError, setNameError] = useState<string | null>(null)
  const [nameSaved, setNameSaved] = useState(false)

  useEffect(() => {
    let alive = true
    const fail = (err: unknown) => alive && setLoadError(errorText(err))
    api.call('settings.get').then((s) => alive && setSettings(s), fail)
    api.call('identity.whoami').then((w) => alive && setMe(w), fail)
    // How each relay answered last; informative, so a core without relay support just shows none.
    const offRelays = api.on('relay.changed', ({ relays }) => setRelayStatus(relays))
    api.call('network.status').then(
      (status) => alive && setRelayStatus(status.relays ?? []),
      () => {},
    )
    // A headless core has no app host to ask; the about section then shows what it can.
    api.call('app.info').then(
      (i) => alive && setInfo(i),
      () => {},
    )
    return () => {
      alive = false
      offRelays()
    }
  }, [api])

  const statusOf = (address: string) => relayStatus.find((r) => r.address === address)
  const otherRelays = relayStatus.filter((r) => !(settings?.relays ?? []).includes(r.address))

  const saveRelays = (relays: string[], then?: () => void) => {
    setSaving(true)
    setRelayError(null)
    api.call('settings.update', { relays }).then(
      (next) => {
        setSaving(false)
        setSettings(next)
        then?.()
      },
      (err: unknown) => {
        setSaving(false)
        setRelayError(errorText(err))
      },
    )
  }
  const currentName = settings?.displayName ?? me?.displayName ?? ''
  const typedName = nameInput ?? currentName
  const saveName = (event: FormEvent) => {
    event.preventDefault()
    const displayName = typedName.trim()
    if (displayName.length === 0 || displayName === currentName) return
    setSaving(true)
    setNameError(null)
    setNameSaved(false)
    api.call('settings.update', { displayName }).then(
      (next) => {
        setSaving(false)
        setSettings(next)
        setNameInput(null)
        setNameSaved(true)
        onNameChanged?.(next.displayName)
      },
      (err: unknown) => {
        setSaving(false)
        setNameError(errorText(err))
      },
    )
  }

  const addRelay = (event: FormEvent) => {
    event.preventDefault()
    const address = relayInput.trim()
    if (address.length === 0 || settings === null) return
    saveRelays([...settings.relays, address], () => setRelayInput(''))
  }

  return (
    <section className="settings" aria-labelledby={`${id}-title`}>
      <header className="chat-header">
        <h2 id={`${id}-title`}>Settings</h2>
        <button type="button" onClick={onClose}>
          Done
        </button>
      </header>
      <div className="settings-body">
        <ErrorNote error={loadError} />

        <section aria-labelledby={`${id}-profile`} className="settings-section">
          <h3 id={`${id}-profile`}>Profile</h3>
          <form onSubmit={saveName} className="inline-form">
            <div className="field grow">
              <label htmlFor={`${id}-name`}>Display name</label>
              <input
                id={`${id}-name`}
                value={typedName}
                onChange={(e) => {
                  setNameInput(e.target.value)
                  setNameSaved(false)
                  setNameError(null)
                }}
                maxLength={64}
                autoComplete="nickname"
                {...invalidWhen(nameError, `${id}-name-error`, `${id}-name-help`)}
                disabled={settings === null}
              />
              <FieldError id={`${id}-name-error`} error={nameError} />
            </div>
            <button type="submit" disabled={saving || settings === null || typedName.trim().length === 0 || typedName.trim() === currentName}>
              Save name
            </button>
          </form>
          <p className="muted small" id={`${id}-name-help`} role="status">
            {nameSaved
              ? 'Saved. Everyone in your conversations will see the new name when they are next in touch.'
              : 'Shown to the people you chat with, in every conversation.'}
          </p>
        </section>

        <AccountSettings />

        <DevicesSettings />

        <section aria-labelledby={`${id}-relays`} className="settings-section">
          <h3 id={`${id}-relays`}>Relays</h3>
          <p className="muted small">
            Community relays let you reach people outside your home network and keep encrypted messages for them while
            they are offline. A relay address ends with /p2p/ and the relay&apos;s id.
          </p>
          {settings !== null && settings.relays.length === 0 && <p>No relays: Hearth works on your local network only.</p>}
          {settings !== null && settings.relays.length > 0 && (
            <ul className="relay-list" aria-label="Relays">
              {settings.relays.map((relay) => (
                <li key={relay}>
                  <span className="relay-text">
                    <code>{relay}</code>
                    <RelayState status={statusOf(relay)} />
                  </span>
                  <button
                    type="button"
                    className="danger-link"
                    disabled={saving}
                    aria-label={`Remove relay ${relay}`}
                    onClick={() => saveRelays(settings.relays.filter((r) => r !== relay))}
                  >
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={addRelay} className="inline-form">
            <div className="field grow">
              <label htmlFor={`${id}-relay`}>Add a relay</label>
              <input
                id={`${id}-relay`}
                value={relayInput}
                onChange={(e) => {
                  setRelayInput(e.target.value)
                  setRelayError(null)
                }}
                placeholder="/dns4/relay.example.org/tcp/443/wss/p2p/12D3KooW…"
                spellCheck={false}
                autoComplete="off"
                {...invalidWhen(relayError, `${id}-relay-error`)}
              />
              <FieldError id={`${id}-relay-error`} error={relayError} />
            </div>
            <button type="submit" disabled={saving || settings === null || relayInput.trim().length === 0}>
              Add
            </button>
          </form>
          {otherRelays.length > 0 && (
            <>
              <h4 className="subheading">Also in use (from invites)</h4>
              <ul className="relay-list" aria-label="Relays from invites">
                {otherRelays.map((r) => (
                  <li key={r.address}>
                    <span className="relay-text">
                      <code>{r.address}</code>
                      <RelayState status={r} />
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>

        <MediaSettings settings={settings} onSaved={setSettings} />

        <section aria-labelledby={`${id}-data`} className="settings-section">
          <h3 id={`${id}-data`}>Data</h3>
          <dl className="facts">
            <dt>Data directory</dt>
            <dd>
              <code>{info?.dataDir ?? 'not known (headless core)'}</code>
            </dd>
          </dl>
          <p className="muted small">Your identity, keys and history live here, encrypted. Back up your recovery phrase, not this folder.</p>
        </section>

        <section aria-labelledby={`${id}-about`} className="settings-section">
          <h3 id={`${id}-about`}>About</h3>
          <dl className="facts">
            <dt>Hearth</dt>
            <dd>{info?.version ?? '…'}</dd>
            {info !== null &&
              Object.entries(info.runtime).map(([name, version]) => (
                <Fragment key={name}>
                  <dt>{name}</dt>
                  <dd>{version}</dd>
                </Fragment>
              ))}
            <dt>Account</dt>
            <dd>
              <code className="wrap">{me?.account ?? '…'}</code>
            </dd>
            <dt>PeerId</dt>
            <dd>
              <code className="wrap">{me?.peerId ?? '…'}</code>
            </dd>
            <dt>Addresses</dt>
            <dd>
              {me === null ? (
                '…'
              ) : me.addresses.length === 0 ? (
                'not listening'
              ) : (
                <ul className="plain">
                  {me.addresses.map((a) => (
                    <li key={a}>
                      <code className="wrap">{a}</code>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </dl>
        </section>
      </div>
    </section>
  )
}
