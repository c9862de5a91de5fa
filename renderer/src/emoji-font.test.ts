import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

const here = import.meta.dirname
const ours = readFileSync(`${here}/emoji-font.css`, 'utf8')
const styles = readFileSync(`${here}/styles.css`, 'utf8')

/** The code points a unicode-range list covers, as [from, to] pairs. */
function ranges(list: string): Array<[number, number]> {
  return list.split(',').map((part) => {
    const [from, to] = part.trim().replace(/^U\+/i, '').split('-')
    return [parseInt(from!, 16), parseInt(to ?? from!, 16)]
  })
}
const face = /@font-face\s*\{([^}]*)\}/.exec(ours)![1]!
const covered = ranges(/unicode-range:\s*([^;]+);/.exec(face)![1]!)
const inRange = (text: string) => [...text].every((ch) => covered.some(([from, to]) => ch.codePointAt(0)! >= from && ch.codePointAt(0)! <= to))

describe('the emoji font shipped with the app', () => {
  it('is one woff2 from the font package, resolved by the bundler (no remote font)', () => {
    const url = /src:\s*url\('([^']+)'\)\s*format\('woff2'\);/.exec(face)![1]!
    expect(url).toBe('twemoji-colr-font/twemoji.woff2')
    expect(existsSync(createRequire(import.meta.url).resolve(url))).toBe(true)
  })

  it('covers emoji, with skin tones, flags, families and subdivision flags, but no letters, digits or punctuation', () => {
    for (const emoji of ['😀', '👍🏽', '🇬🇧', '❤️', '👨‍👩‍👧', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '☕', '⭐', '🫠', '↩️']) expect(inRange(emoji), emoji).toBe(true)
    for (const text of ['a', 'Z', '0', '9', '#', '*', '.', '?', 'é', '€', '—', '…', '’', '→']) expect(inRange(text), text).toBe(false)
  })

  it('is loaded by the stylesheet and comes first in the text font and the code font', () => {
    expect(styles).toMatch(/^@import '\.\/emoji-font\.css';$/m)
    const root = /:root\s*\{[^}]*?font-family:\s*([^;]+);/.exec(styles)![1]!
    expect(root.trim().startsWith('Twemoji,')).toBe(true)
    const code = /\ncode\s*\{[^}]*?font-family:\s*([^;]+);/.exec(styles)![1]!
    expect(code.trim().startsWith('Twemoji,')).toBe(true)
  })
})
