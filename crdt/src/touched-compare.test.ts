import * as Automerge from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { sameValue } from './touched-compare.js'

describe('sameValue', () => {
  const doc = Automerge.from<Record<string, unknown>>({
    a: { s: new Automerge.ImmutableString('x'), b: new Uint8Array([1, 2]), l: [1, 2], n: 1 },
    c: { s: new Automerge.ImmutableString('x'), b: new Uint8Array([1, 2]), l: [1, 2], n: 1 },
  })

  it('compares maps and lists as Automerge objects: same id and equal contents', () => {
    expect(sameValue(doc['a'], doc['a'])).toBe(true)
    expect(sameValue(doc['a'], Automerge.view(doc, Automerge.getHeads(doc))['a'])).toBe(true)
    // Equal contents in another object: a replacement, which the diff reports.
    expect(sameValue(doc['a'], doc['c'])).toBe(false)
    const edited = Automerge.change(Automerge.clone(doc), (d) => void ((d['a'] as { n: number }).n = 2))
    expect(sameValue(doc['a'], edited['a'])).toBe(false)
    const listEdited = Automerge.change(Automerge.clone(doc), (d) => void (d['a'] as { l: number[] }).l.push(3))
    expect(sameValue(doc['a'], listEdited['a'])).toBe(false)
  })

  it('compares bytes, strings and scalars by value', () => {
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true)
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false)
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1]))).toBe(false)
    expect(sameValue(new Automerge.ImmutableString('x'), new Automerge.ImmutableString('x'))).toBe(true)
    expect(sameValue(new Automerge.ImmutableString('x'), new Automerge.ImmutableString('y'))).toBe(false)
    expect(sameValue(new Automerge.ImmutableString('x'), 'x')).toBe(false)
    expect(sameValue(true, false)).toBe(false)
    expect(sameValue(undefined, {})).toBe(false)
  })

  it('counts values nested past its depth bound as different instead of recursing without end', () => {
    const nest = (depth: number): Record<string, unknown> => {
      let v: Record<string, unknown> = { leaf: 1 }
      for (let i = 0; i < depth; i++) v = { v }
      return v
    }
    const shallow = Automerge.from<Record<string, unknown>>({ a: nest(10) })
    const deep = Automerge.from<Record<string, unknown>>({ a: nest(40) })
    expect(sameValue(shallow['a'], Automerge.view(shallow, Automerge.getHeads(shallow))['a'])).toBe(true)
    expect(sameValue(deep['a'], Automerge.view(deep, Automerge.getHeads(deep))['a'])).toBe(false)
  })
})
