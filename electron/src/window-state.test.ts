import { describe, expect, it } from 'vitest'
import { DEFAULT_WINDOW_SIZE, fitToDisplays, MIN_WINDOW_SIZE, parseWindowState, stateToSave, type Rect } from './window-state.js'

const laptop: Rect = { x: 0, y: 25, width: 1440, height: 875 }
const monitorRight: Rect = { x: 1440, y: 0, width: 2560, height: 1415 }

describe('window state', () => {
  it('reads back what it saved and refuses anything else', () => {
    const saved = stateToSave({ x: 100, y: 120, width: 1200, height: 800 }, true)
    expect(parseWindowState(JSON.parse(JSON.stringify(saved)))).toEqual(saved)
    for (const junk of [null, 'x', [], {}, { width: -1, height: 500 }, { width: 'big', height: 500 }, { width: 1e9, height: 500 }, { width: NaN, height: 1 }]) {
      expect(parseWindowState(junk), JSON.stringify(junk)).toBeNull()
    }
    // A position that is not a pair of numbers is dropped, the size kept.
    expect(parseWindowState({ width: 900, height: 700, x: '1', y: 2, maximized: 'yes' })).toEqual({ width: 900, height: 700, maximized: false })
  })

  it('opens at the default size, centred, the first time', () => {
    expect(fitToDisplays(null, [laptop])).toEqual({ ...DEFAULT_WINDOW_SIZE, maximized: false })
  })

  it('keeps a position that is still on a display', () => {
    const state = { x: 1600, y: 100, width: 1200, height: 900, maximized: false }
    expect(fitToDisplays(state, [laptop, monitorRight])).toEqual(state)
  })

  it('drops a position on a monitor that was unplugged (the OS centres the window)', () => {
    const onMonitor = { x: 1600, y: 100, width: 1200, height: 900, maximized: true }
    expect(fitToDisplays(onMonitor, [laptop])).toEqual({ width: 1200, height: 875, maximized: true })
  })

  it('drops a position whose title bar is out of reach, and pulls a half-visible window onto its display', () => {
    expect(fitToDisplays({ x: 100, y: -500, width: 1000, height: 700, maximized: false }, [laptop]).x).toBeUndefined()
    expect(fitToDisplays({ x: 1300, y: 300, width: 1000, height: 700, maximized: false }, [laptop])).toEqual({
      x: 440,
      y: 200,
      width: 1000,
      height: 700,
      maximized: false,
    })
  })

  it('clamps the size between the minimum and the displays', () => {
    expect(fitToDisplays({ width: 10, height: 10, maximized: false }, [laptop])).toMatchObject(MIN_WINDOW_SIZE)
    expect(fitToDisplays({ width: 9000, height: 9000, maximized: false }, [laptop, monitorRight])).toMatchObject({ width: 2560, height: 1415 })
    // With no display information at all, the saved size still gets sane bounds.
    expect(fitToDisplays({ width: 9000, height: 9000, maximized: false }, [])).toMatchObject(DEFAULT_WINDOW_SIZE)
  })
})
