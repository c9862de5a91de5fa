// Lives here rather than in crdt/ because it reads files: crdt/ is compiled without Node types.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { asActorId, isCrdtError, listMessages, loadShard } from '../../crdt/src/index.js'

const dir = fileURLToPath(new URL('../vectors/automerge-corrupt/', import.meta.url))
const actor = asActorId('a1'.repeat(16))
const files = readdirSync(dir).filter((f) => f !== 'LICENSE' && f !== 'exemplar.automerge')

describe('loadShard against Automerge fuzz crashers (test/vectors/automerge-corrupt)', () => {
  it('loads the valid exemplar', () => {
    const doc = loadShard(readFileSync(join(dir, 'exemplar.automerge')), actor)
    // Not a Hearth shard: the selectors must simply find no messages in it, not throw.
    expect(listMessages(doc)).toEqual([])
  })

  it('has corrupt vectors to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(8)
  })

  it.each(files)('rejects %s with CORRUPT_DATA', (file) => {
    const bytes = readFileSync(join(dir, file))
    let caught: unknown
    try {
      loadShard(bytes, actor)
    } catch (err) {
      caught = err
    }
    expect(isCrdtError(caught, 'CORRUPT_DATA'), String(caught)).toBe(true)
  })
})
