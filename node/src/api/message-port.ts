/**
 * The two MessagePort styles the core API travels over, and one way to listen to either. Shared by the carrier
 * (port-carrier.ts, in the core's process) and the client (electron/src/port-client.ts, bundled into the sandboxed
 * preload), so this file imports nothing.
 */
interface PortBase {
  postMessage(message: unknown): void
  close(): void
  /** Electron's MessagePortMain and the DOM's MessagePort queue messages until started. */
  start?(): void
}

/** Electron's `MessagePortMain` (an EventEmitter whose 'message' listener gets `{ data, ports }`). */
export interface EmitterPort extends PortBase {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown
  on(event: 'close', listener: () => void): unknown
  off(event: 'message', listener: (event: { data: unknown }) => void): unknown
  off(event: 'close', listener: () => void): unknown
}

/** The DOM's and Node's `MessagePort` (EventTarget style). */
export interface TargetPort extends PortBase {
  addEventListener(type: 'message' | 'close', listener: (event: { data?: unknown }) => void): void
  removeEventListener(type: 'message' | 'close', listener: (event: { data?: unknown }) => void): void
}

export type MessagePortLike = EmitterPort | TargetPort

/** Attaches to either port style; returns the function that detaches. */
export function listenPort(port: MessagePortLike, onData: (data: unknown) => void, onClose: () => void): () => void {
  const onEvent = (event: { data?: unknown }) => onData(event.data)
  if ('addEventListener' in port) {
    port.addEventListener('message', onEvent)
    port.addEventListener('close', onClose)
    port.start?.()
    return () => {
      port.removeEventListener('message', onEvent)
      port.removeEventListener('close', onClose)
    }
  }
  port.on('message', onEvent)
  port.on('close', onClose)
  port.start?.()
  return () => {
    port.off('message', onEvent)
    port.off('close', onClose)
  }
}
