import assert from 'node:assert/strict'
import { assertRecord, type ConformanceKit } from './kit.ts'

/** Reads, conditional create and update, touch, destroy, and copies of what is written. */
export function recordTests(kit: ConformanceKit): void {
  const { describe, it, create, update, sorted, tag, sessionKey, indexKey } = kit

  describe('records', () => {
    it('get of a missing key is null', async () => {
      assert.equal(await kit.store.get(sessionKey(tag())), null)
    })

    it('create, then get returns exactly the fields written', async () => {
      const key = sessionKey(tag())
      assert.equal(await create(key, { u: '42', c: '1700000000', f: '1' }), true)
      assertRecord(await kit.store.get(key), { u: '42', c: '1700000000', f: '1' })
    })

    it('create on an existing key is refused and changes nothing (fields, index, replaced key)', async () => {
      const t = tag()
      const key = sessionKey(t)
      const other = sessionKey(t)
      await create(key, { u: '1' })
      await create(other, { u: '2' }, { index: indexKey(t) })
      const again = await create(
        key,
        { u: 'attacker', x: 'y' },
        { index: indexKey(t), replaces: other, replacesIndex: indexKey(t) },
      )
      assert.equal(again, false)
      assertRecord(await kit.store.get(key), { u: '1' })
      assertRecord(
        await kit.store.get(other),
        { u: '2' },
        'the replaced key survives a refused write',
      )
      assert.deepEqual(await sorted(indexKey(t)), [other])
    })

    it('update of a missing key is refused and creates nothing (no permissive creation)', async () => {
      const t = tag()
      const key = sessionKey(t)
      const old = sessionKey(t)
      await create(old, { u: '1' }, { index: indexKey(t) })
      const result = await update(
        key,
        { u: '1' },
        { index: indexKey(t), replaces: old, replacesIndex: indexKey(t) },
      )
      assert.equal(result, false)
      assert.equal(await kit.store.get(key), null)
      assertRecord(
        await kit.store.get(old),
        { u: '1' },
        'the replaced key survives a refused write',
      )
      assert.deepEqual(await sorted(indexKey(t)), [old])
    })

    it('update sets and removes fields and keeps the others', async () => {
      const key = sessionKey(tag())
      await create(key, { a: '1', b: '2', c: '3' })
      assert.equal(await update(key, { b: 'two', d: '4' }, { remove: ['c'] }), true)
      assertRecord(await kit.store.get(key), { a: '1', b: 'two', d: '4' })
    })

    it('touch of a missing key is false and creates nothing, even with fields', async () => {
      const key = sessionKey(tag())
      assert.equal(await kit.store.touch(key, 60, { t: '1' }), false)
      assert.equal(await kit.store.get(key), null)
    })

    it('touch sets fields and keeps the others', async () => {
      const key = sessionKey(tag())
      await create(key, { u: '1', t: '100' })
      assert.equal(await kit.store.touch(key, 60, { t: '200' }), true)
      assert.equal(await kit.store.touch(key, 60), true)
      assertRecord(await kit.store.get(key), { u: '1', t: '200' })
    })

    it('destroy deletes the record and is idempotent', async () => {
      const t = tag()
      const key = sessionKey(t)
      await create(key, { u: '1' }, { index: indexKey(t) })
      await kit.store.destroy(key, indexKey(t))
      assert.equal(await kit.store.get(key), null)
      assert.deepEqual(await kit.store.members(indexKey(t)), [])
      await kit.store.destroy(key, indexKey(t))
      await kit.store.destroy(key)
      await kit.store.destroy(sessionKey(tag()), indexKey(tag()))
      assert.equal(await kit.store.get(key), null)
    })

    it('records are copied: changing a written or returned object changes nothing stored', async () => {
      const key = sessionKey(tag())
      const set: Record<string, string> = { u: '1' }
      await create(key, set)
      set.u = 'changed'
      set.extra = 'x'
      const read = await kit.store.get(key)
      assert.ok(read)
      read.u = 'mutated'
      read.more = 'y'
      assertRecord(await kit.store.get(key), { u: '1' })
    })
  })
}

/** Rotation: a create that `replaces` another record takes its place in one step. */
export function rotationTests(kit: ConformanceKit): void {
  const { describe, it, create, update, sorted, tag, sessionKey, indexKey } = kit

  describe('rotation', () => {
    it('create with replaces deletes the old record and its index entry', async () => {
      const t = tag()
      const old = sessionKey(t)
      const next = sessionKey(t)
      const keep = sessionKey(t)
      await create(old, { u: '1', v: 'old' }, { index: indexKey(t) })
      await create(keep, { u: '1' }, { index: indexKey(t) })
      const rotated = await create(
        next,
        { u: '1', v: 'new' },
        { index: indexKey(t), replaces: old, replacesIndex: indexKey(t) },
      )
      assert.equal(rotated, true)
      assert.equal(await kit.store.get(old), null)
      assertRecord(await kit.store.get(next), { u: '1', v: 'new' })
      assert.deepEqual(await sorted(indexKey(t)), [keep, next].sort())
      assert.equal(await update(old, { v: 'late' }), false, 'the old record cannot come back')
      assert.equal(await kit.store.get(old), null)
    })

    it('create with replaces of a missing key still creates the record', async () => {
      const t = tag()
      const key = sessionKey(t)
      const written = await create(
        key,
        { u: '1' },
        { index: indexKey(t), replaces: sessionKey(t), replacesIndex: indexKey(t) },
      )
      assert.equal(written, true)
      assertRecord(await kit.store.get(key), { u: '1' })
      assert.deepEqual(await kit.store.members(indexKey(t)), [key])
    })
  })
}
