/**
 * The window's size, position and maximized state, remembered across runs (kept in userData as JSON). What comes
 * back from disk is validated, and a position is only reused when the window would still be visible: a monitor may
 * have been unplugged or rearranged since, and a window restored off-screen looks like an app that did not start.
 */

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export interface WindowState {
  /** Absent when the window should be centred by the OS. */
  x?: number
  y?: number
  width: number
  height: number
  maximized: boolean
}

export const DEFAULT_WINDOW_SIZE = { width: 1100, height: 760 } as const
export const MIN_WINDOW_SIZE = { width: 640, height: 480 } as const
/** How much of the window's top strip (where the title bar is) must be on a display to be reachable by the mouse. */
const MIN_VISIBLE = { width: 120, height: 40 } as const
const MAX_COORDINATE = 100_000

const isCoordinate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_COORDINATE
const isSize = (v: unknown): v is number => isCoordinate(v) && v > 0

/** A saved state, or null when the file held anything else (absent, damaged, edited by hand, from another version). */
export function parseWindowState(raw: unknown): WindowState | null {
  if (typeof raw !== 'object' || raw === null) return null
  const r = raw as Record<string, unknown>
  if (!isSize(r.width) || !isSize(r.height)) return null
  const state: WindowState = { width: Math.round(r.width), height: Math.round(r.height), maximized: r.maximized === true }
  if (isCoordinate(r.x) && isCoordinate(r.y)) {
    state.x = Math.round(r.x)
    state.y = Math.round(r.y)
  }
  return state
}

/**
 * The state to open the window with on the current displays (their work areas, primary first): the size clamped
 * between the minimum and the largest display, the position kept only if its title strip is visible on a display
 * (then pulled fully onto it), otherwise dropped so the OS centres the window.
 */
export function fitToDisplays(saved: WindowState | null, workAreas: readonly Rect[]): WindowState {
  const primary = workAreas[0]
  const state: WindowState = saved ?? { ...DEFAULT_WINDOW_SIZE, maximized: false }
  const largest = workAreas.reduce<{ width: number; height: number }>(
    (max, a) => ({ width: Math.max(max.width, a.width), height: Math.max(max.height, a.height) }),
    primary ?? { width: DEFAULT_WINDOW_SIZE.width, height: DEFAULT_WINDOW_SIZE.height },
  )
  const width = clamp(state.width, MIN_WINDOW_SIZE.width, Math.max(MIN_WINDOW_SIZE.width, largest.width))
  const height = clamp(state.height, MIN_WINDOW_SIZE.height, Math.max(MIN_WINDOW_SIZE.height, largest.height))
  const fitted: WindowState = { width, height, maximized: state.maximized }
  if (state.x === undefined || state.y === undefined) return fitted

  const titleStrip: Rect = { x: state.x, y: state.y, width, height: MIN_VISIBLE.height }
  const display = workAreas.find((area) => {
    const overlap = intersection(titleStrip, area)
    return overlap !== null && overlap.width >= Math.min(MIN_VISIBLE.width, width) && overlap.height >= MIN_VISIBLE.height
  })
  if (display === undefined) return fitted
  // Pull the window onto the display it is mostly on, shrinking it if that display is smaller.
  fitted.width = Math.min(width, Math.max(MIN_WINDOW_SIZE.width, display.width))
  fitted.height = Math.min(height, Math.max(MIN_WINDOW_SIZE.height, display.height))
  fitted.x = clamp(state.x, display.x, display.x + display.width - fitted.width)
  fitted.y = clamp(state.y, display.y, display.y + display.height - fitted.height)
  return fitted
}

/** What to save: the normal (un-maximized) bounds plus the maximized flag, so un-maximizing next time restores them. */
export function stateToSave(normalBounds: Rect, maximized: boolean): WindowState {
  return { x: normalBounds.x, y: normalBounds.y, width: normalBounds.width, height: normalBounds.height, maximized }
}

function intersection(a: Rect, b: Rect): Rect | null {
  const x = Math.max(a.x, b.x)
  const y = Math.max(a.y, b.y)
  const right = Math.min(a.x + a.width, b.x + b.width)
  const bottom = Math.min(a.y + a.height, b.y + b.height)
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : null
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), Math.max(min, max))
}
