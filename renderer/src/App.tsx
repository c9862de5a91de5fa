import { useEffect, useState } from 'react'
import type { AppStatus } from '../../node/src/api/types.js'
import { errorText } from './api/client.js'
import { connect, type Connection } from './api/connect.js'
import { ApiContext, useApi } from './api/context.js'
import { Main } from './components/Main.js'
import { Onboarding, Unlock } from './components/Onboarding.js'

type ConnectionState = { phase: 'connecting' } | { phase: 'failed'; error: string } | { phase: 'connected'; connection: Connection }

/**
 * Connects to the core (bridge or WebSocket), then shows onboarding, unlock or the app according to the host's state.
 * When a reconnecting carrier comes back (Hearth was restarted), everything below starts over from `app.status`: the
 * restarted host is locked again, and every list is read afresh.
 */
export function App({ connectTo = connect }: { connectTo?: () => Promise<Connection> }) {
  const [state, setState] = useState<ConnectionState>({ phase: 'connecting' })
  const [generation, setGeneration] = useState(0)
  useEffect(() => {
    let alive = true
    let connection: Connection | undefined
    let offReconnect: (() => void) | undefined
    connectTo().then(
      (c) => {
        connection = c
        if (!alive) {
          c.transport.close()
          return
        }
        offReconnect = c.transport.onReconnect?.(() => setGeneration((g) => g + 1))
        setState({ phase: 'connected', connection: c })
      },
      (err: unknown) => alive && setState({ phase: 'failed', error: errorText(err) }),
    )
    return () => {
      alive = false
      offReconnect?.()
      connection?.transport.close()
    }
  }, [connectTo])

  if (state.phase === 'connecting') return <Splash text="Connecting to Hearth…" />
  if (state.phase === 'failed') return <Splash text={state.error} problem />
  return (
    <ApiContext.Provider value={state.connection.api}>
      <Gate key={generation} />
    </ApiContext.Provider>
  )
}

/** Which screen a state belongs to; `starting` keeps the screen that started it, so its errors show in place. */
type Screen = 'onboarding' | 'unlock' | 'main' | 'stopped'

function screenFor(state: AppStatus['state'], previous: Screen | null): Screen | null {
  switch (state) {
    case 'new':
    case 'confirming':
    case 'linking':
      return 'onboarding'
    case 'locked':
      return 'unlock'
    case 'starting':
      return previous
    case 'ready':
      return 'main'
    case 'stopped':
      return 'stopped'
  }
}

function Gate() {
  const api = useApi()
  const [view, setView] = useState<{ status: AppStatus; screen: Screen | null } | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [closed, setClosed] = useState(false)
  useEffect(() => {
    let alive = true
    const apply = (status: AppStatus) => setView((v) => ({ status, screen: screenFor(status.state, v?.screen ?? null) }))
    const offChanged = api.on('app.changed', ({ status }) => apply(status))
    const offClosed = api.onClose(() => setClosed(true))
    api.call('app.status').then(
      // An event that arrived first is newer than this answer.
      (status) => alive && setView((v) => v ?? { status, screen: screenFor(status.state, null) }),
      (err: unknown) => alive && setError(errorText(err)),
    )
    return () => {
      alive = false
      offChanged()
      offClosed()
    }
  }, [api])

  if (error !== null) return <Splash text={error} problem />
  if (view === null) return <Splash text={closed ? 'Hearth stopped.' : 'Starting…'} problem={closed} />
  const stopped = <Splash text="Hearth stopped. Start it again to continue." problem />
  switch (view.screen) {
    case 'onboarding':
      return closed ? stopped : <Onboarding status={view.status} />
    case 'unlock':
      return closed ? stopped : <Unlock status={view.status} />
    case 'main':
      return <Main coreConnected={!closed} />
    case 'stopped':
      return stopped
    case null:
      return <Splash text="Opening your conversations…" />
  }
}

function Splash({ text, problem = false }: { text: string; problem?: boolean }) {
  return (
    <main className="splash">
      <div className="splash-mark" aria-hidden="true" />
      <h1 className="visually-hidden">Hearth</h1>
      <p role={problem ? 'alert' : 'status'} className={problem ? 'error-note' : 'muted'}>
        {text}
      </p>
    </main>
  )
}
