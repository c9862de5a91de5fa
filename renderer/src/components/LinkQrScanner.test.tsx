import { multiaddr } from '@multiformats/multiaddr'
import jsQR from 'jsqr'
import QRCode from 'qrcode'
import { describe, expect, it } from 'vitest'
import { formatLinkCode } from '../../../node/src/identity/link-code.js'
import { cameraProblem } from './LinkQrScanner.js'

/** The QR code as the new device draws it (qrcode, quiet zone 4), as RGBA pixels a camera frame would give. */
function pixels(text: string, scale = 4): { data: Uint8ClampedArray; size: number } {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' })
  const margin = 4
  const size = (modules.size + margin * 2) * scale
  const data = new Uint8ClampedArray(size * size * 4).fill(255)
  for (let y = 0; y < modules.size; y++) {
    for (let x = 0; x < modules.size; x++) {
      if (!modules.get(y, x)) continue
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + margin) * scale + dy) * size + (x + margin) * scale + dx) * 4
          data[i] = data[i + 1] = data[i + 2] = 0
        }
      }
    }
  }
  return { data, size }
}

describe('scanning a link code', () => {
  it('jsQR reads back the code the new device shows, relay circuit and all', () => {
    for (const address of ['/ip4/192.168.1.20/tcp/4001', '/dns4/relay.example.org/tcp/443/wss/p2p/12D3KooWLRPJAA5o6Mk6mZ6Ej1S8Ljsux9f5QrwcaMSS4WZ2cPYU/p2p-circuit']) {
      const link = formatLinkCode({ secret: 'K7Q29XHM4RTWPLZ3G8N', locator: multiaddr(address).bytes })
      const { data, size } = pixels(link)
      expect(jsQR(data, size, size, { inversionAttempts: 'dontInvert' })?.data).toBe(link)
    }
  })

  it('says why the camera cannot be used, and to type instead', () => {
    expect(cameraProblem(Object.assign(new Error('x'), { name: 'NotAllowedError' }))).toBe('Hearth may not use the camera here. Type the code instead.')
    expect(cameraProblem({ name: 'NotFoundError' })).toBe('No camera was found. Type the code instead.')
    expect(cameraProblem({ name: 'NotReadableError' })).toBe('The camera is busy in another app. Type the code instead.')
    expect(cameraProblem(new Error('odd'))).toBe('The camera could not be started. Type the code instead.')
  })
})
