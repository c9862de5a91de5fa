/**
 * The rules that turn emojibase-data's English dataset into the compact file the reaction picker ships
 * (`emoji-data.json`). Pure, so the generator script (renderer/scripts/emoji-data.ts) and the test that keeps the
 * committed file in step with the installed package run the same code. Never imported by the app itself.
 */
import type { Emoji, MessagesDataset } from 'emojibase'
import type { CompactData, EmojiRow } from './emoji-data.js'

/** The newest Emoji version offered: emoji added later draw as tofu on the systems and in the font the app ships. */
export const MAX_EMOJI_VERSION = 15.1

/** emojibase's group for skin-tone and hair-style components: pieces of other emoji, not something to react with. */
const COMPONENT_GROUP = 2

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function offered(emoji: Emoji): boolean {
  // Regional indicators and other pieces have no group.
  return emoji.group !== undefined && emoji.group !== COMPONENT_GROUP && emoji.version <= MAX_EMOJI_VERSION
}

/**
 * The five single-tone variants, light (tone 1) to dark (tone 5), in the order emoji-data.ts's TONES names them; none
 * when any is missing or too new. Variants with two tones (handshake, couples) are left out: the picker has one tone.
 */
function fiveTones(emoji: Emoji): string[] | undefined {
  const byTone = new Map<number, string>()
  for (const skin of emoji.skins ?? []) {
    if (typeof skin.tone === 'number' && skin.version <= MAX_EMOJI_VERSION) byTone.set(skin.tone, skin.emoji)
  }
  const tones = [1, 2, 3, 4, 5].map((tone) => byTone.get(tone))
  return tones.every((e) => e !== undefined) ? tones : undefined
}

function row(emoji: Emoji): EmojiRow {
  // A tag that is already part of the label ("grin" in "grinning face") adds nothing to the picker's search, which
  // matches the label too; dropping them keeps the shipped file small.
  const tags = (emoji.tags ?? []).filter((tag) => !emoji.label.includes(tag)).join(' ')
  const skins = fiveTones(emoji)
  const label = capitalize(emoji.label)
  const group = emoji.group ?? 0
  return skins === undefined ? [emoji.emoji, label, group, tags] : [emoji.emoji, label, group, tags, skins]
}

/** `version` is the emojibase-data package's, named in the file so anyone can see what it was made from. */
export function buildEmojiData(data: readonly Emoji[], messages: MessagesDataset, version: string): CompactData {
  const groups = [...messages.groups].filter((g) => g.order !== COMPONENT_GROUP).sort((a, b) => a.order - b.order)
  return {
    source: `emojibase-data ${version} (MIT), English, up to Emoji ${MAX_EMOJI_VERSION}`,
    categories: groups.map((g) => [g.order, capitalize(g.message)]),
    skinTones: Object.fromEntries(messages.skinTones.map((t) => [t.key, capitalize(t.message)])) as CompactData['skinTones'],
    // emojibase lists emoji in Unicode's order, which is the order the picker shows them in.
    emojis: data.filter(offered).map(row),
  }
}

/** The file's exact text: compact JSON without a final newline, as committed. */
export function serializeEmojiData(compact: CompactData): string {
  return JSON.stringify(compact)
}
