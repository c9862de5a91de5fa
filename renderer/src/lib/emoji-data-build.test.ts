import type { Emoji, MessagesDataset } from 'emojibase'
import data from 'emojibase-data/en/data.json'
import messages from 'emojibase-data/en/messages.json'
import emojibaseData from 'emojibase-data/package.json'
import { describe, expect, it } from 'vitest'
import { buildEmojiData, serializeEmojiData } from './emoji-data-build.js'
import committed from './emoji-data.json?raw'

const emoji = (over: Partial<Emoji>): Emoji => ({ label: 'x', hexcode: '0', emoji: 'x', text: '', type: 1, version: 1, group: 0, ...over })
const ungrouped = (over: Partial<Emoji>): Emoji => {
  const { group: _, ...rest } = emoji(over)
  return rest
}
const tone = (e: string, t: 1 | 2 | 3 | 4 | 5, version = 1): Emoji => emoji({ emoji: e, tone: t, version })
const fewMessages: MessagesDataset = {
  groups: [
    { key: 'people-body', message: 'people & body', order: 1 },
    { key: 'component', message: 'components', order: 2 },
    { key: 'smileys-emotion', message: 'smileys & emotion', order: 0 },
  ],
  skinTones: [{ key: 'dark', message: 'dark skin tone' }],
  subgroups: [],
}

describe('emoji data generator', () => {
  it('the committed emoji-data.json is exactly what the installed emojibase-data gives (run npm run emoji-data)', () => {
    const built = serializeEmojiData(buildEmojiData(data, messages, (emojibaseData as { version: string }).version))
    // Compared as text, not parsed: a stale, reformatted or hand-edited file fails.
    expect(built === committed).toBe(true)
  })

  it('keeps groups but components, drops emoji newer than 15.1 and tags already in the label, and takes five tones', () => {
    const skins = [tone('👋🏿', 5), tone('👋🏻', 1), tone('👋🏼', 2), tone('👋🏽', 3), tone('👋🏾', 4), emoji({ emoji: '👋🏻‍🤝‍👋🏿', tone: [1, 5] })]
    const built = buildEmojiData(
      [
        ungrouped({ emoji: '🇦', label: 'regional indicator A' }),
        emoji({ emoji: '😀', label: 'grinning face', tags: ['face', 'grin', 'happy', 'Face'] }),
        emoji({ emoji: '🏻', label: 'light skin tone', group: 2 }),
        emoji({ emoji: '🫩', label: 'face with bags under eyes', version: 16 }),
        emoji({ emoji: '👋', label: 'waving hand', group: 1, tags: ['hi'], skins }),
        // A tone that arrived later than the base emoji, past what is offered: no tones at all rather than four.
        emoji({ emoji: '👯', label: 'people with bunny ears', group: 1, skins: [1, 2, 3, 4, 5].map((t) => tone('👯' + String(t), t as 1, t === 3 ? 16 : 1)) }),
      ],
      fewMessages,
      '99.0.0',
    )
    expect(built).toEqual({
      source: 'emojibase-data 99.0.0 (MIT), English, up to Emoji 15.1',
      categories: [
        [0, 'Smileys & emotion'],
        [1, 'People & body'],
      ],
      skinTones: { dark: 'Dark skin tone' },
      emojis: [
        ['😀', 'Grinning face', 0, 'happy Face'],
        ['👋', 'Waving hand', 1, 'hi', ['👋🏻', '👋🏼', '👋🏽', '👋🏾', '👋🏿']],
        ['👯', 'People with bunny ears', 1, ''],
      ],
    })
  })
})
