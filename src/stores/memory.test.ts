import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../shared/errors.ts'
import { MemoryStore } from './memory.ts'

function clocked(options: { maxEntries?: number } = {}) {
  const clock = { now: 1_700_000_000_000 }
  const store = new MemoryStore({ ...options, now: () => clock.now })
  return { store, clock }
}

const fields = { u: '1' }

describe('MemoryStore', () => {
  it('rejects invalid options with ERR_INVALID_OPTION', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new MemoryStore({ maxEntries }),
        (err: unknown) => err instanceof LoginManagerError && err.code === 'ERR_INVALID_OPTION',
        String(maxEntries),
      )
    }
    assert.throws(
      () => new MemoryStore({ now: 5 as unknown as () => number }),
      (err: unknown) => err instanceof LoginManagerError && err.code === 'ERR_INVALID_OPTION',
    )
  })

  it('never returns a record at or after its expiry, to the millisecond', async () => {
    const { store, clock } = clocked()
    await store.write('a', { mode: 'create', set: fields, ttl: 10 })
    clock.now += 9_999
    assert.deepEqual({ ...(await store.get('a')) }, fields)
    clock.now += 1
    assert.equal(await store.get('a'), null)
    assert.equal(store.size, 0, 'an expired record found by a read is dropped')
  })

  it('rounds ttl up to whole seconds, at least one, and rejects non-finite ttls', async () => {
    const { store, clock } = clocked()
    await store.write('zero', { mode: 'create', set: fields, ttl: 0 })
    await store.write('fraction', { mode: 'create', set: fields, ttl: 1.2 })
    clock.now += 999
    assert.notEqual(await store.get('zero'), null)
    clock.now += 1
    assert.equal(await store.get('zero'), null)
    clock.now += 999
    assert.notEqual(await store.get('fraction'), null)
    clock.now += 1
    assert.equal(await store.get('fraction'), null)
    for (const ttl of [Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(store.write('x', { mode: 'create', set: fields, ttl }), RangeError)
      await assert.rejects(store.touch('x', ttl), RangeError)
    }
    assert.equal(store.size, 0)
  })

  it('rejects a create without fields and an unknown mode', async () => {
    const { store } = clocked()
    await assert.rejects(store.write('a', { mode: 'create', set: {}, ttl: 5 }), RangeError)
    await assert.rejects(
      store.write('a', { mode: 'upsert' as 'create', set: fields, ttl: 5 }),
      RangeError,
    )
    assert.equal(store.size, 0)
  })

  it('an update that removes every field deletes the record (as Redis does)', async () => {
    const { store } = clocked()
    await store.write('a', { mode: 'create', set: fields, ttl: 5, index: 'i' })
    assert.equal(await store.write('a', { mode: 'update', set: {}, remove: ['u'], ttl: 5 }), true)
    assert.equal(await store.get('a'), null)
    assert.deepEqual(await store.members('i'), [])
  })

  it('replaces equal to the key itself is ignored', async () => {
    const { store } = clocked()
    const w = { mode: 'create', set: fields, ttl: 5, replaces: 'a', replacesIndex: 'i' } as const
    assert.equal(await store.write('a', { ...w, index: 'i' }), true)
    assert.deepEqual(await store.members('i'), ['a'])
  })

  it('returns null-prototype copies', async () => {
    const { store } = clocked()
    await store.write('a', { mode: 'create', set: fields, ttl: 5 })
    const first = await store.get('a')
    const second = await store.get('a')
    assert.equal(Object.getPrototypeOf(first), null)
    assert.notEqual(first, second)
  })

  it('an index lives as long as its longest-living member (touch included)', async () => {
    const { store, clock } = clocked()
    await store.write('a', { mode: 'create', set: fields, ttl: 10, index: 'i' })
    await store.write('b', { mode: 'create', set: fields, ttl: 10, index: 'i' })
    await store.touch('b', 100)
    clock.now += 50_000
    assert.deepEqual(await store.members('i'), ['b'])
    assert.equal(await store.destroyIndex('i'), 1)
    assert.deepEqual(await store.members('i'), [])
  })

  it('when full, evicts the record closest to expiry (and removes it from its index)', async () => {
    const { store, clock } = clocked({ maxEntries: 3 })
    await store.write('a', { mode: 'create', set: fields, ttl: 30, index: 'i' })
    await store.write('b', { mode: 'create', set: fields, ttl: 10, index: 'i' })
    await store.write('c', { mode: 'create', set: fields, ttl: 20 })
    await store.write('d', { mode: 'create', set: fields, ttl: 60 })
    assert.equal(store.size, 3)
    assert.equal(await store.get('b'), null, 'b had the nearest expiry')
    assert.deepEqual(await store.members('i'), ['a'])
    // Touching c pushes its expiry past a's: a is next.
    clock.now += 1_000
    await store.touch('c', 120)
    await store.write('e', { mode: 'create', set: fields, ttl: 60 })
    assert.equal(await store.get('a'), null)
    assert.deepEqual(
      (await Promise.all(['c', 'd', 'e'].map((k) => store.get(k)))).map((r) => r !== null),
      [true, true, true],
    )
  })

  it('a rotation at capacity evicts nobody: the replaced record makes the room', async () => {
    const { store } = clocked({ maxEntries: 2 })
    await store.write('a', { mode: 'create', set: fields, ttl: 5 })
    await store.write('old', { mode: 'create', set: fields, ttl: 60 })
    await store.write('new', { mode: 'create', set: fields, ttl: 60, replaces: 'old' })
    assert.notEqual(await store.get('a'), null)
    assert.notEqual(await store.get('new'), null)
    assert.equal(await store.get('old'), null)
  })

  it('sweeps expired records lazily on writes, before evicting living ones', async () => {
    const { store, clock } = clocked({ maxEntries: 3 })
    await store.write('short1', { mode: 'create', set: fields, ttl: 1, index: 'i' })
    await store.write('short2', { mode: 'create', set: fields, ttl: 1, index: 'i' })
    await store.write('long', { mode: 'create', set: fields, ttl: 100, index: 'i' })
    clock.now += 2_000
    assert.equal(store.size, 3, 'nothing runs in the background')
    await store.write('new', { mode: 'create', set: fields, ttl: 100 })
    assert.equal(store.size, 2, 'both expired records were swept by the write')
    assert.notEqual(await store.get('long'), null)
    assert.deepEqual(await store.members('i'), ['long'])
  })

  it('starts no timer and holds nothing that keeps the process alive', async () => {
    const before = process.getActiveResourcesInfo().length
    const { store } = clocked()
    for (let i = 0; i < 100; i++) {
      await store.write(`k${i}`, { mode: 'create', set: fields, ttl: 1, index: 'i' })
      await store.touch(`k${i}`, 5)
    }
    await store.members('i')
    assert.equal(process.getActiveResourcesInfo().length, before)
  })

  it('stays bounded and fast under a flood of creates, touches and misses', async () => {
    const { store, clock } = clocked({ maxEntries: 1_000 })
    const started = performance.now()
    for (let i = 0; i < 20_000; i++) {
      await store.write(`k${i}`, {
        mode: 'create',
        set: fields,
        ttl: 60 + (i % 7),
        index: `i${i % 10}`,
      })
      await store.touch(`k${i - 1}`, 90)
      await store.get(`missing${i}`)
      if (i % 1000 === 0) clock.now += 1_000
    }
    assert.equal(store.size, 1_000)
    const listed = (await Promise.all(Array.from({ length: 10 }, (_, i) => store.members(`i${i}`))))
      .flat()
      .sort()
    assert.equal(listed.length, 1_000, 'indexes hold only living records')
    assert.ok(performance.now() - started < 2_000, 'linear, not quadratic')
  })

  it('10,000 reads of random keys leave the store empty', async () => {
    const { store } = clocked()
    for (let i = 0; i < 10_000; i++) {
      await store.get(`lm:{x}:s:${Math.random()}`)
      await store.write(`lm:{x}:s:${Math.random()}`, { mode: 'update', set: fields, ttl: 5 })
    }
    assert.equal(store.size, 0)
  })
})
