/**
 * Draws the app icon (a hearth: a house with a fire in it, on a warm rounded square) as vector shapes evaluated per
 * pixel with signed distances, so every size is rendered crisp rather than scaled down, and writes it as PNG:
 *
 *   electron/resources/icon.png           1024×1024, from which electron-builder derives the macOS .icns and the
 *                                         Windows .ico
 *   electron/resources/icons/NxN.png      16…512, the Linux icon set (and the window icon on Linux)
 *
 * Run: `npx tsx electron/scripts/make-icon.ts`. The output is committed; this script documents how it was made.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodePng } from '../src/png.js'

type Point = readonly [number, number]
type Color = readonly [number, number, number]

const out = fileURLToPath(new URL('../resources/', import.meta.url))

// Geometry on a 1024 canvas, scaled for each size.
const BODY = { x: 100, y: 100, size: 824, radius: 184 }
const HOUSE: Point[] = [
  [512, 228],
  [820, 510],
  [734, 510],
  [734, 800],
  [290, 800],
  [290, 510],
  [204, 510],
]
const DOOR = { x: 382, y: 530, width: 260, height: 270, radius: 130 }
const OUTER_FLAME = teardrop(512, 690, 88, 108, 2.2)
const INNER_FLAME = teardrop(512, 736, 50, 60, 2)

const TOP: Color = [0xff, 0x8a, 0x3d]
const BOTTOM: Color = [0xb4, 0x30, 0x12]
const HOUSE_COLOR: Color = [0xff, 0xf7, 0xed]
const DOOR_COLOR: Color = [0x5b, 0x1a, 0x0c]
const FLAME_COLOR: Color = [0xf9, 0x73, 0x16]
const CORE_COLOR: Color = [0xfd, 0xe0, 0x47]

/** A teardrop flame around (cx, cy): the tip `height` above, round at the bottom. */
function teardrop(cx: number, cy: number, halfWidth: number, height: number, sharpness: number): Point[] {
  const points: Point[] = []
  for (let i = 0; i < 96; i++) {
    const t = (i / 96) * 2 * Math.PI
    points.push([cx + halfWidth * Math.sin(t) * Math.sin(t / 2) ** sharpness * 1.6, cy - height * Math.cos(t)])
  }
  return points
}

/** Signed distance to a polygon (negative inside), after Inigo Quilez. */
function polygonDistance(px: number, py: number, v: readonly Point[]): number {
  let d = (px - v[0]![0]) ** 2 + (py - v[0]![1]) ** 2
  let s = 1
  for (let i = 0, j = v.length - 1; i < v.length; j = i, i++) {
    const [xi, yi] = v[i]!
    const [xj, yj] = v[j]!
    const ex = xj - xi
    const ey = yj - yi
    const wx = px - xi
    const wy = py - yi
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)))
    const bx = wx - ex * t
    const by = wy - ey * t
    d = Math.min(d, bx * bx + by * by)
    const c1 = py >= yi
    const c2 = py < yj
    const c3 = ex * wy > ey * wx
    if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s
  }
  return s * Math.sqrt(d)
}

function roundedRectDistance(px: number, py: number, x: number, y: number, w: number, h: number, r: number): number {
  const qx = Math.abs(px - (x + w / 2)) - (w / 2 - r)
  const qy = Math.abs(py - (y + h / 2)) - (h / 2 - r)
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r
}

/** The fireplace opening: a rectangle under a half circle. */
function doorDistance(px: number, py: number): number {
  const { x, y, width, height, radius } = DOOR
  const rect = roundedRectDistance(px, py, x, y + radius, width, height - radius, 0)
  // The circle's upper half only: cut by the line where the rectangle starts.
  const arch = Math.max(Math.hypot(px - (x + width / 2), py - (y + radius)) - radius, py - (y + radius))
  return Math.min(rect, arch)
}

function bounds(points: readonly Point[]): { x0: number; y0: number; x1: number; y1: number } {
  const xs = points.map((p) => p[0])
  const ys = points.map((p) => p[1])
  return { x0: Math.min(...xs) - 2, y0: Math.min(...ys) - 2, x1: Math.max(...xs) + 2, y1: Math.max(...ys) + 2 }
}

function render(size: number): Uint8Array {
  const scale = 1024 / size
  const rgba = new Uint8Array(size * size * 4)
  const outerBox = bounds(OUTER_FLAME)
  const innerBox = bounds(INNER_FLAME)
  // Coverage of a shape from its distance in canvas units, anti-aliased over one output pixel.
  const cover = (d: number) => Math.min(1, Math.max(0, 0.5 - d / scale))
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = (x + 0.5) * scale
      const py = (y + 0.5) * scale
      const alpha = cover(roundedRectDistance(px, py, BODY.x, BODY.y, BODY.size, BODY.size, BODY.radius))
      if (alpha === 0) continue
      const g = Math.min(1, Math.max(0, (py - BODY.y) / BODY.size))
      let color: number[] = [0, 1, 2].map((i) => TOP[i]! + (BOTTOM[i]! - TOP[i]!) * g)
      const paint = (c: Color, a: number) => {
        if (a > 0) color = color.map((v, i) => v + (c[i]! - v) * a)
      }
      paint(HOUSE_COLOR, cover(polygonDistance(px, py, HOUSE)))
      paint(DOOR_COLOR, cover(doorDistance(px, py)))
      if (px >= outerBox.x0 && px <= outerBox.x1 && py >= outerBox.y0 && py <= outerBox.y1) {
        paint(FLAME_COLOR, cover(polygonDistance(px, py, OUTER_FLAME)))
      }
      if (px >= innerBox.x0 && px <= innerBox.x1 && py >= innerBox.y0 && py <= innerBox.y1) {
        paint(CORE_COLOR, cover(polygonDistance(px, py, INNER_FLAME)))
      }
      rgba.set([Math.round(color[0]!), Math.round(color[1]!), Math.round(color[2]!), Math.round(alpha * 255)], (y * size + x) * 4)
    }
  }
  return encodePng(size, size, rgba)
}

mkdirSync(join(out, 'icons'), { recursive: true })
writeFileSync(join(out, 'icon.png'), render(1024))
for (const size of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(join(out, 'icons', `${size}x${size}.png`), render(size))
console.log(`icons written to ${out}`)
