/**
 * The emoji the reaction picker offers, shipped with the app: the picker never fetches anything at run time (the app
 * works offline, and its Content-Security-Policy allows no other origin).
 *
 * `emoji-data.json` is made by `npm run emoji-data` (renderer/scripts/emoji-data.ts, rules in emoji-data-build.ts)
 * from the emojibase-data package pinned in package.json (17.0.0; MIT licence, © Miles Johnson; English): every emoji
 * of a group other than "components" up to Emoji 15.1 (what current systems can draw), as [emoji, label, group, tags,
 * skins?] rows with the tags that are not already part of the label; five skin-tone variants, light to dark, when it
 * has them. A unit test fails when the committed file differs from what the installed package gives.
 */
import type { EmojiData, EmojiDataResolver } from 'frimousse'

export type EmojiRow = [emoji: string, label: string, group: number, tags: string, skins?: string[]]

export interface CompactData {
  source: string
  categories: Array<[index: number, label: string]>
  skinTones: EmojiData['skinTones']
  emojis: EmojiRow[]
}

const TONES = ['light', 'medium-light', 'medium', 'medium-dark', 'dark'] as const

export function expandEmojiData(compact: CompactData): EmojiData {
  return {
    locale: 'en',
    categories: compact.categories.map(([index, label]) => ({ index, label })),
    skinTones: compact.skinTones,
    emojis: compact.emojis.map(([emoji, label, category, tags, skins]) => ({
      emoji,
      label,
      category,
      // Versions are filtered when the file is made; the picker only needs a number here.
      version: 0,
      tags: tags === '' ? [] : tags.split(' '),
      ...(skins === undefined ? {} : { skins: Object.fromEntries(TONES.map((tone, i) => [tone, skins[i]!])) as EmojiData['skinTones'] }),
    })),
  }
}

let loaded: Promise<EmojiData> | undefined

/** Loads the data once (a chunk of the app's own bundle, fetched on first use) and keeps it for every picker. */
export const resolveEmojiData: EmojiDataResolver = () => {
  // As text, parsed here: the file stays plain JSON, and the type checker does not read 130 kB of literals.
  loaded ??= import('./emoji-data.json?raw').then((m) => expandEmojiData(JSON.parse(m.default) as CompactData))
  return loaded
}
