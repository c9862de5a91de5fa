import { describe, expect, it } from 'vitest'
import type { HearthBridge } from '../api/transport.js'
import { joinCodeOf, subscribeDeepLinks, subscribeOpenConversation } from './deep-links.js'

describe('deep links', () => {
  it('accepts hearth://join/ links only', () => {
    expect(joinCodeOf(' hearth://join/abc ')).toBe('hearth://join/abc')
    expect(joinCodeOf('HEARTH://join/abc')).toBe('HEARTH://join/abc')
    expect(joinCodeOf('hearth://join/')).toBeNull()
    expect(joinCodeOf('HEARTH://J/K7Q29XHM4RTWPLZ3G8N2@0G2M')).toBe('HEARTH://J/K7Q29XHM4RTWPLZ3G8N2@0G2M')
    expect(joinCodeOf('hearth://j/')).toBeNull()
    expect(joinCodeOf('https://example.org/join/abc')).toBeNull()
    expect(joinCodeOf('hearth://settings')).toBeNull()
    expect(joinCodeOf(`hearth://join/${'a'.repeat(5000)}`)).toBeNull()
  })

  it('takes links from the Electron bridge and ignores other ones; without a bridge there are none', () => {
    let deliver: (url: string) => void = () => {}
    let unsubscribed = false
    const bridge: HearthBridge = {
      call: async () => null,
      on: () => () => {},
      onDeepLink(listener) {
        deliver = listener
        return () => (unsubscribed = true)
      },
    }
    const codes: string[] = []
    const off = subscribeDeepLinks({ hearth: bridge } as unknown as Window, (code) => codes.push(code))
    deliver('hearth://join/xyz')
    deliver('javascript:alert(1)')
    off()
    expect(codes).toEqual(['hearth://join/xyz'])
    expect(unsubscribed).toBe(true)
    expect(() => subscribeDeepLinks({} as Window, () => {})()).not.toThrow()
  })

  it('opens a conversation the shell names (a clicked notification), if the id is well formed', () => {
    let deliver: (id: string) => void = () => {}
    const bridge: HearthBridge = {
      call: async () => null,
      on: () => () => {},
      onOpenConversation(listener) {
        deliver = listener
        return () => {}
      },
    }
    const opened: string[] = []
    subscribeOpenConversation({ hearth: bridge } as unknown as Window, (id) => opened.push(id))
    deliver('a'.repeat(32))
    deliver('../../etc')
    expect(opened).toEqual(['a'.repeat(32)])
  })
})
