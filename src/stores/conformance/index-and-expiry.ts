import assert from 'node:assert/strict'
import { assertRecord, type ConformanceKit } from './kit.ts'

/** Per-user indexes: members, and destroyIndex with its count and kept keys. */
export function indexTests(kit: ConformanceKit): void {
  const { describe, it, create, update, sorted, tag, sessionKey, indexKey } = kit

  describe('index', () => {
    it('members lists the records added by create and by update', async () => {
      const t = tag()
      const a = sessionKey(t)
      const b = sessionKey(t)
      await create(a, { u: '1' }, { index: indexKey(t) })
      await create(b, { u: '1' })
      assert.deepEqual(await kit.store.members(indexKey(t)), [a])
      assert.equal(await update(b, {}, { index: indexKey(t) }), true)
      assert.deepEqual(await sorted(indexKey(t)), [a, b].sort())
    })

    it('a destroyed record leaves members, even when destroyed without its index', async () => {
      const t = tag()
      const [a, b, c] = [sessionKey(t), sessionKey(t), sessionKey(t)]
      for (const key of [a, b, c]) await create(key, { u: '1' }, { index: indexKey(t) })
      await kit.store.destroy(a, indexKey(t))
      await kit.store.destroy(b)
      assert.deepEqual(await kit.store.members(indexKey(t)), [c])
    })

    it('destroyIndex without keep destroys every record and returns the count', async () => {
      const t = tag()
      const keys = [sessionKey(t), sessionKey(t), sessionKey(t)]
      for (const key of keys) await create(key, { u: '1' }, { index: indexKey(t) })
      assert.equal(await kit.store.destroyIndex(indexKey(t)), 3)
      for (const key of keys) assert.equal(await kit.store.get(key), null)
      assert.deepEqual(await kit.store.members(indexKey(t)), [])
      assert.equal(await kit.store.destroyIndex(indexKey(t)), 0)
    })

    it('destroyIndex with keep leaves the kept records alive and listed', async () => {
      const t = tag()
      const keys = [sessionKey(t), sessionKey(t), sessionKey(t), sessionKey(t)]
      for (const key of keys) await create(key, { u: '1' }, { index: indexKey(t) })
      const [current, other, ...rest] = keys as [string, string, ...string[]]
      assert.equal(await kit.store.destroyIndex(indexKey(t), [current, other]), rest.length)
      assertRecord(await kit.store.get(current), { u: '1' })
      assertRecord(await kit.store.get(other), { u: '1' })
      for (const key of rest) assert.equal(await kit.store.get(key), null)
      assert.deepEqual(await sorted(indexKey(t)), [current, other].sort())
    })

    it('destroyIndex counts only records that still existed', async () => {
      const t = tag()
      const [a, b] = [sessionKey(t), sessionKey(t)]
      await create(a, { u: '1' }, { index: indexKey(t) })
      await create(b, { u: '1' }, { index: indexKey(t) })
      await kit.store.destroy(a)
      assert.equal(await kit.store.destroyIndex(indexKey(t)), 1)
      assert.equal(await kit.store.get(b), null)
    })

    it('an index that was never written has no members and destroys nothing', async () => {
      const t = tag()
      assert.deepEqual(await kit.store.members(indexKey(t)), [])
      assert.equal(await kit.store.destroyIndex(indexKey(t)), 0)
      assert.equal(await kit.store.destroyIndex(indexKey(t), [sessionKey(t)]), 0)
    })
  })
}

/** Expiry at second granularity: records written with `ttl: 1` are gone 1.2 s later. */
export function expiryTests(kit: ConformanceKit): void {
  const { describe, it, before, create, update, sorted, tag, sessionKey, indexKey, wait } = kit

  describe('expiry', () => {
    const t = tag()
    const keys = {
      expired: sessionKey(t),
      touched: sessionKey(t),
      living: sessionKey(t),
      shortened: sessionKey(t),
      alone: sessionKey(t),
    }
    const index = indexKey(t)
    const lonelyIndex = indexKey(`${t}-alone`)

    before(async () => {
      await create(keys.expired, { u: '1' }, { ttl: 1, index })
      await create(keys.touched, { u: '1', t: '1' }, { ttl: 1, index })
      await create(keys.living, { u: '1' }, { ttl: 30, index })
      await create(keys.shortened, { u: '1' }, { ttl: 30 })
      await create(keys.alone, { u: '1' }, { ttl: 1, index: lonelyIndex })
      assert.equal(await kit.store.touch(keys.touched, 30, { t: '2' }), true)
      assert.equal(await update(keys.shortened, { t: '2' }, { ttl: 1 }), true)
      assertRecord(await kit.store.get(keys.expired), { u: '1' }, 'alive before its ttl')
      await wait(1200)
    })

    it('a record is gone once its ttl has passed, and cannot be updated or touched', async () => {
      assert.equal(await kit.store.get(keys.expired), null)
      assert.equal(await update(keys.expired, { u: '1' }), false)
      assert.equal(await kit.store.touch(keys.expired, 30, { u: '1' }), false)
      assert.equal(await kit.store.get(keys.expired), null)
    })

    it('touch extends the ttl (counted from the touch) and sets its fields', async () => {
      assertRecord(await kit.store.get(keys.touched), { u: '1', t: '2' })
    })

    it('update sets the ttl, counted from the update', async () => {
      assert.equal(await kit.store.get(keys.shortened), null)
    })

    it('members drops expired records; an index of expired records is empty', async () => {
      assert.deepEqual(await sorted(index), [keys.living, keys.touched].sort())
      assert.deepEqual(await kit.store.members(lonelyIndex), [])
      assert.equal(await kit.store.destroyIndex(lonelyIndex), 0)
    })
  })
}

/** Records left without fields, and keys written again once expired. */
export function emptiedRecordTests(kit: ConformanceKit): void {
  const { describe, it, before, create, update, tag, sessionKey, indexKey, wait } = kit

  describe('emptied records and expired keys written again', () => {
    const t = tag()
    const reused = sessionKey(t)

    before(async () => {
      await create(reused, { u: 'old', stale: 'x' }, { ttl: 1, index: indexKey(t) })
      await wait(1200)
    })

    it('an update that removes every field deletes the record and takes it off its index', async () => {
      const t2 = tag()
      const key = sessionKey(t2)
      await create(key, { a: '1', b: '2' }, { index: indexKey(t2) })
      assert.equal(await update(key, {}, { remove: ['a', 'b'], index: indexKey(t2) }), true)
      assert.equal(await kit.store.get(key), null, 'a record without fields does not exist')
      assert.deepEqual(await kit.store.members(indexKey(t2)), [])
      assert.equal(await update(key, { a: '3' }), false, 'and cannot be updated back')
      assert.equal(await kit.store.get(key), null)
    })

    it('a create on a key whose record expired writes a new record, none of the old fields', async () => {
      assert.equal(await kit.store.get(reused), null)
      assert.equal(await create(reused, { u: 'new' }, { index: indexKey(t) }), true)
      assertRecord(await kit.store.get(reused), { u: 'new' })
      assert.deepEqual(await kit.store.members(indexKey(t)), [reused])
    })
  })
}
