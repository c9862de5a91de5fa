/**
 * Regenerates renderer/src/lib/emoji-data.json (the reaction picker's emoji) from the installed emojibase-data:
 *
 *   npm run emoji-data             write the file
 *   npm run emoji-data -- --check  exit 1 when the committed file is not what the package gives (writes nothing)
 *
 * To move to a newer emojibase, pin the new emojibase-data and emojibase versions in package.json (npm install
 * --save-dev --save-exact), run this, and look at the diff; raise MAX_EMOJI_VERSION in emoji-data-build.ts only when
 * the shipped emoji font and current systems draw the newer emoji.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Emoji, MessagesDataset } from 'emojibase'
import { buildEmojiData, serializeEmojiData } from '../src/lib/emoji-data-build.js'

const require = createRequire(import.meta.url)
const target = fileURLToPath(new URL('../src/lib/emoji-data.json', import.meta.url))

function readJson<T>(specifier: string): T {
  return JSON.parse(readFileSync(require.resolve(specifier), 'utf8')) as T
}

const { version } = readJson<{ version: string }>('emojibase-data/package.json')
const text = serializeEmojiData(
  buildEmojiData(readJson<Emoji[]>('emojibase-data/en/data.json'), readJson<MessagesDataset>('emojibase-data/en/messages.json'), version),
)

if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8')
  if (current !== text) {
    console.error(`${target} is not what emojibase-data ${version} gives: run npm run emoji-data`)
    process.exit(1)
  }
  console.log(`${target} matches emojibase-data ${version}`)
} else {
  writeFileSync(target, text)
  console.log(`wrote ${target} from emojibase-data ${version} (${Buffer.byteLength(text)} bytes)`)
}
