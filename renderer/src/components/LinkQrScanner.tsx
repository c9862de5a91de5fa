/**
 * Reads a link code from the camera: frames from getUserMedia drawn to a canvas and decoded with jsQR, a few times a
 * second, until one holds a Hearth link code. Without a camera, or when the person or the browser refuses it, it
 * says so and the person types the code instead (the dialog around it always offers typing).
 */
import jsQR from 'jsqr'
import { useEffect, useRef, useState } from 'react'
import { looksLikeLinkCode } from '../../../node/src/identity/link-code.js'

/** Decoding every frame costs a phone's battery for nothing: a few tries a second find a code as fast as a person aims. */
const SCAN_EVERY_MS = 200

/** Whether this browser could give a camera at all (a desktop without one still says yes: getUserMedia then fails). */
export function cameraSupported(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getUserMedia === 'function'
}

export function LinkQrScanner({ onCode, onUnavailable }: { onCode(code: string): void; onUnavailable(reason: string): void }) {
  const video = useRef<HTMLVideoElement>(null)
  const [seenOther, setSeenOther] = useState(false)
  const done = useRef({ onCode, onUnavailable })
  useEffect(() => {
    done.current = { onCode, onUnavailable }
  })

  useEffect(() => {
    let stream: MediaStream | undefined
    let timer: ReturnType<typeof setInterval> | undefined
    let alive = true
    const canvas = document.createElement('canvas')
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(
      async (s) => {
        stream = s
        if (!alive) return stop()
        const el = video.current
        if (el === null) return
        el.srcObject = s
        await el.play().catch(() => {})
        timer = setInterval(() => {
          const text = decodeFrame(el, canvas)
          if (text === null) return
          if (!looksLikeLinkCode(text)) return setSeenOther(true)
          stop()
          done.current.onCode(text)
        }, SCAN_EVERY_MS)
      },
      (err: unknown) => alive && done.current.onUnavailable(cameraProblem(err)),
    )
    function stop() {
      clearInterval(timer)
      for (const track of stream?.getTracks() ?? []) track.stop()
    }
    return () => {
      alive = false
      stop()
    }
  }, [])

  return (
    <div className="stack qr-scanner">
      <video ref={video} className="qr-video" muted playsInline aria-label="Camera view: point it at the QR code on the new device" />
      <p className="muted small" role="status">
        {seenOther ? 'That QR code is not a Hearth link code. Point the camera at the code the new device shows.' : 'Point the camera at the QR code on the new device.'}
      </p>
    </div>
  )
}

function decodeFrame(video: HTMLVideoElement, canvas: HTMLCanvasElement): string | null {
  const { videoWidth: width, videoHeight: height } = video
  if (width === 0 || height === 0) return null
  canvas.width = width
  canvas.height = height
  const context = canvas.getContext('2d', { willReadFrequently: true })
  if (context === null) return null
  context.drawImage(video, 0, 0, width, height)
  const image = context.getImageData(0, 0, width, height)
  return jsQR(image.data, width, height, { inversionAttempts: 'dontInvert' })?.data ?? null
}

/** Why the camera could not be used, in words, ending with what to do instead. */
export function cameraProblem(err: unknown): string {
  const name = err instanceof Error || (typeof err === 'object' && err !== null && 'name' in err) ? String((err as { name: unknown }).name) : ''
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'Hearth may not use the camera here. Type the code instead.'
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found. Type the code instead.'
  if (name === 'NotReadableError') return 'The camera is busy in another app. Type the code instead.'
  return 'The camera could not be started. Type the code instead.'
}
