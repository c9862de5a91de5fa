import { describe, expect, it } from 'vitest'
import type { CoreStore, Put } from '../store/core-store.js'
import { UnitOfWork } from './unit-of-work.js'

function fakeStore(fail = false) {
  const commits: Array<{ puts: Put[]; synced: boolean }> = []
  const store = {
    commit: async (puts: Put[], synced: boolean) => {
      if (fail) throw new Error('disk full')
      commits.push({ puts, synced })
    },
  } as unknown as CoreStore
  return { store, commits }
}

const put = (key: string): Put => ({ type: 'put', key, value: new Uint8Array() })

describe('UnitOfWork', () => {
  it('writes everything in one batch, then announces in order', async () => {
    const { store, commits } = fakeStore()
    const said: string[] = []
    const work = new UnitOfWork(store).put(put('a')).announce(() => said.push('first'))
    work.put(put('b'), put('c')).announce(() => said.push(`second after ${commits.length} commit`))
    expect(said).toEqual([])
    await work.commit(true)
    expect(commits).toEqual([{ puts: [put('a'), put('b'), put('c')], synced: true }])
    expect(said).toEqual(['first', 'second after 1 commit'])
  })

  it('announces nothing when the write fails', async () => {
    const { store } = fakeStore(true)
    const said: string[] = []
    const work = new UnitOfWork(store).put(put('a')).announce(() => said.push('told'))
    await expect(work.commit(true)).rejects.toThrow('disk full')
    expect(said).toEqual([])
  })

  it('skips the write when there is nothing to write', async () => {
    const { store, commits } = fakeStore()
    let told = false
    await new UnitOfWork(store).announce(() => (told = true)).commit(false)
    expect(commits).toEqual([])
    expect(told).toBe(true)
  })
})
