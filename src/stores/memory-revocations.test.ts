import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { newRevocationId, type RevocationEntry } from '../session/revocations.ts'
import { LoginManagerError } from '../shared/errors.ts'
import { MemoryRevocationStore } from './memory-revocations.ts'

const T0 = Date.UTC(2030, 0, 1, 12)
const S0 = T0 / 1000

describe('MemoryRevocationStore', () => {
  it('rejects a bad maxEntries with ERR_INVALID_OPTION', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new MemoryRevocationStore({ maxEntries }),
        (err: unknown) => err instanceof LoginManagerError && err.code === 'ERR_INVALID_OPTION',
      )
    }
  })

  it('loads everything without a cursor, and only what was added since with one', async () => {
    const store = new MemoryRevocationStore({ now: () => T0 })
    const [a, b] = [newRevocationId(), newRevocationId()]
    await store.add([{ id: a, expiresAt: S0 + 60 }])
    const first = await store.load()
    assert.deepEqual(first.entries, [{ id: a, expiresAt: S0 + 60 }])
    await store.add([{ id: b, expiresAt: S0 + 90 }])
    const next = await store.load(first.cursor)
    assert.deepEqual(next.entries, [{ id: b, expiresAt: S0 + 90 }])
    assert.deepEqual((await store.load(next.cursor)).entries, [])
    assert.equal((await store.load()).entries.length, 2)
  })

  it('drops expired entries, keeps the longest expiry of an id, and is bounded', async () => {
    let now = T0
    const store = new MemoryRevocationStore({ now: () => now, maxEntries: 2 })
    const id = newRevocationId()
    await store.add([{ id, expiresAt: S0 + 600 }])
    await store.add([{ id, expiresAt: S0 + 60 }])
    assert.deepEqual((await store.load()).entries, [{ id, expiresAt: S0 + 600 }])
    await store.add([{ id: newRevocationId(), expiresAt: S0 - 1 }])
    assert.equal((await store.load()).entries.length, 1, 'an expired entry is not kept')
    await store.add([
      { id: newRevocationId(), expiresAt: S0 + 60 },
      { id: newRevocationId(), expiresAt: S0 + 60 },
    ])
    const all = (await store.load()).entries
    assert.equal(all.length, 2)
    assert.ok(!all.some((e) => e.id === id), 'the oldest addition went first')
    now += 61_000
    assert.deepEqual((await store.load()).entries, [])
  })

  it('pushes additions to every subscriber until it unsubscribes', async () => {
    const store = new MemoryRevocationStore({ now: () => T0 })
    const heard: RevocationEntry[][] = []
    const listener = {
      entries: (entries: readonly RevocationEntry[]) => heard.push([...entries]),
      gap: () => {},
      error: () => {},
    }
    const stop = store.subscribe(listener)
    const id = newRevocationId()
    await store.add([{ id, expiresAt: S0 + 60 }])
    assert.deepEqual(heard, [[{ id, expiresAt: S0 + 60 }]])
    await stop()
    await store.add([{ id: newRevocationId(), expiresAt: S0 + 60 }])
    assert.equal(heard.length, 1)
  })
})
