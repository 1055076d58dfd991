import assert from 'node:assert/strict'
import { assertRecord, type ConformanceKit } from './kit.ts'

/** Compare-and-set (`expect`) and writes that depend on another record (`requires`). */
export function conditionTests(kit: ConformanceKit): void {
  const { describe, it, create, update, tag, sessionKey, indexKey } = kit

  describe('conditions', () => {
    it('update with expect writes only while every expected field holds exactly its value', async () => {
      const key = sessionKey(tag())
      await create(key, { h: 'first', x: '1' })
      assert.equal(await update(key, { h: 'next' }, { expect: { h: 'other' } }), false)
      assert.equal(await update(key, { h: 'next' }, { expect: { h: 'first', x: '2' } }), false)
      assert.equal(await update(key, { h: 'next' }, { expect: { missing: '' } }), false)
      assertRecord(
        await kit.store.get(key),
        { h: 'first', x: '1' },
        'a refused write changes nothing',
      )
      assert.equal(await update(key, { h: 'next' }, { expect: { h: 'first', x: '1' } }), true)
      assertRecord(await kit.store.get(key), { h: 'next', x: '1' })
      assert.equal(
        await update(key, { h: 'again' }, { expect: { h: 'first' } }),
        false,
        'the value read before the first write no longer matches',
      )
      assert.equal(await update(key, {}, { expect: { h: 'next' }, remove: ['x'] }), true)
      assertRecord(await kit.store.get(key), { h: 'next' })
    })

    it('a refused compare-and-set changes nothing: no field, no index entry, the replaced key kept', async () => {
      const t = tag()
      const key = sessionKey(t)
      const other = sessionKey(t)
      await create(key, { h: 'a' })
      await create(other, { u: '1' })
      const refused = await update(
        key,
        { h: 'b', y: '2' },
        {
          ttl: 60,
          expect: { h: 'stale' },
          remove: ['h'],
          index: indexKey(t),
          replaces: other,
          replacesIndex: indexKey(t),
        },
      )
      assert.equal(refused, false)
      assertRecord(await kit.store.get(key), { h: 'a' })
      assertRecord(await kit.store.get(other), { u: '1' }, 'the replaced key survives')
      assert.deepEqual(await kit.store.members(indexKey(t)), [])
    })

    it('a create with expect is a RangeError, and writes nothing', async () => {
      const key = sessionKey(tag())
      await assert.rejects(
        kit.store.write(key, { mode: 'create', set: { u: '1' }, ttl: 60, expect: { u: '1' } }),
        RangeError,
      )
      assert.equal(await kit.store.get(key), null)
    })

    it('requires: the write happens while the required key exists, and never once it is gone', async () => {
      const t = tag()
      const token = sessionKey(t)
      const [a, b, c] = [sessionKey(t), sessionKey(t), sessionKey(t)]
      await create(token, { u: '1' }, { index: indexKey(t) })
      assert.equal(await create(a, { u: '1' }, { requires: token, index: indexKey(t) }), true)
      assert.equal(await update(a, { t: '2' }, { requires: token }), true)
      await kit.store.destroy(token, indexKey(t))
      assert.equal(await create(b, { u: '1' }, { requires: token, index: indexKey(t) }), false)
      assert.equal(await update(a, { t: '3' }, { requires: token }), false)
      assert.equal(await kit.store.get(b), null)
      assertRecord(await kit.store.get(a), { u: '1', t: '2' }, 'a refused update changes nothing')
      assert.deepEqual(await kit.store.members(indexKey(t)), [a], 'a refused create is not indexed')
      assert.equal(await create(c, { u: '1' }, { requires: sessionKey(t) }), false)
      assert.equal(await kit.store.get(c), null)
    })

    it('a rotation that requires the record it replaces is refused once that record is gone', async () => {
      const t = tag()
      const old = sessionKey(t)
      const [next, late] = [sessionKey(t), sessionKey(t)]
      await create(old, { u: '1' }, { index: indexKey(t) })
      const rotation = { index: indexKey(t), replaces: old, replacesIndex: indexKey(t) }
      assert.equal(await create(next, { u: '1' }, { ...rotation, requires: old }), true)
      assert.equal(await kit.store.get(old), null, 'the rotation deleted the record it replaced')
      // A request that loaded `old` before the rotation (or a logout) rotates it too, late.
      assert.equal(await create(late, { u: '1' }, { ...rotation, requires: old }), false)
      assert.equal(
        await kit.store.get(late),
        null,
        'a replaced record cannot come back as a new id',
      )
      assert.deepEqual(await kit.store.members(indexKey(t)), [next])
    })
  })
}
