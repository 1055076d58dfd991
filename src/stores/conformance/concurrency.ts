import assert from 'node:assert/strict'
import { assertRecord, type ConformanceKit } from './kit.ts'

/** Writers racing each other and destroys: field updates merge, nothing deleted comes back. */
export function concurrencyTests(kit: ConformanceKit): void {
  const { describe, it, create, update, tag, sessionKey, indexKey } = kit

  describe('concurrency', () => {
    it('two concurrent updates of different fields both persist', async () => {
      const key = sessionKey(tag())
      await create(key, { a: '0', b: '0', c: 'kept' })
      const results = await Promise.all([update(key, { a: '1' }), update(key, { b: '1' })])
      assert.deepEqual(results, [true, true])
      assertRecord(await kit.store.get(key), { a: '1', b: '1', c: 'kept' })
    })

    it('an update after a destroy is refused and does not bring the record back', async () => {
      const key = sessionKey(tag())
      await create(key, { u: '1' })
      await kit.store.destroy(key)
      assert.equal(await update(key, { u: '1', t: '2' }), false)
      assert.equal(await kit.store.touch(key, 60, { t: '3' }), false)
      assert.equal(await kit.store.get(key), null)
    })

    it('an update racing a destroy never leaves the record behind (both orders, 20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const t = tag()
        const key = sessionKey(t)
        await create(key, { u: '1' }, { index: indexKey(t) })
        const racers =
          round % 2 === 0
            ? [kit.store.destroy(key, indexKey(t)), update(key, { t: String(round) })]
            : [update(key, { t: String(round) }), kit.store.destroy(key, indexKey(t))]
        await Promise.all(racers)
        assert.equal(await kit.store.get(key), null, `round ${round}`)
        assert.deepEqual(await kit.store.members(indexKey(t)), [], `round ${round}`)
      }
    })

    it('an update racing a rotation never brings the old record back (10 rounds)', async () => {
      for (let round = 0; round < 10; round++) {
        const t = tag()
        const old = sessionKey(t)
        const next = sessionKey(t)
        await create(old, { u: '1' }, { index: indexKey(t) })
        const rotation = { index: indexKey(t), replaces: old, replacesIndex: indexKey(t) }
        await Promise.all([
          update(old, { t: String(round) }, { index: indexKey(t) }),
          create(next, { u: '1' }, rotation),
        ])
        assert.equal(await kit.store.get(old), null, `round ${round}`)
        assertRecord(await kit.store.get(next), { u: '1' }, `round ${round}`)
        assert.deepEqual(await kit.store.members(indexKey(t)), [next], `round ${round}`)
      }
    })
    it('concurrent compare-and-set updates of one value: exactly one wins (20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const key = sessionKey(tag())
        await create(key, { h: 'read', other: 'kept' })
        const results = await Promise.all(
          [0, 1, 2, 3, 4].map((i) => update(key, { h: `w${i}` }, { expect: { h: 'read' } })),
        )
        const winners = results.flatMap((won, i) => (won ? [i] : []))
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`)
        assertRecord(await kit.store.get(key), { h: `w${winners[0]}`, other: 'kept' })
      }
    })

    it('a create that requires a key racing its destruction never outlives "destroy until empty" (20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const t = tag()
        const token = sessionKey(t)
        const restored = sessionKey(t)
        await create(token, { u: '1' }, { index: indexKey(t) })
        // What "log out everywhere" does: destroyIndex until a pass destroys nothing. A write
        // conditional on a record of the index lands before that record goes (and is then in
        // the index for the next pass) or is refused.
        const everywhere = async () => {
          for (let pass = 0; pass < 10; pass++) {
            if ((await kit.store.destroyIndex(indexKey(t))) === 0) return
          }
        }
        const restore = () => create(restored, { u: '1' }, { requires: token, index: indexKey(t) })
        await Promise.all(round % 2 === 0 ? [everywhere(), restore()] : [restore(), everywhere()])
        assert.equal(await kit.store.get(token), null, `round ${round}`)
        assert.equal(await kit.store.get(restored), null, `round ${round}: the restore survived`)
        assert.deepEqual(await kit.store.members(indexKey(t)), [], `round ${round}`)
      }
    })
  })
}

/** Create-if-absent and rotations racing: exactly one writer wins. */
export function writerRaceTests(kit: ConformanceKit): void {
  const { describe, it, create, tag, sessionKey, indexKey } = kit

  describe('races between writers: create-if-absent and rotations', () => {
    it('concurrent creates of one key: exactly one wins, and the record is its (20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const t = tag()
        const key = sessionKey(t)
        const results = await Promise.all(
          [0, 1, 2, 3, 4].map((i) => create(key, { w: String(i) }, { index: indexKey(t) })),
        )
        const winners = results.flatMap((won, i) => (won ? [i] : []))
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`)
        assertRecord(await kit.store.get(key), { w: String(winners[0]) }, `round ${round}`)
        assert.deepEqual(await kit.store.members(indexKey(t)), [key], `round ${round}`)
      }
    })

    it('two rotations of one record that require it: exactly one wins (20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const t = tag()
        const old = sessionKey(t)
        const next = [sessionKey(t), sessionKey(t)] as const
        await create(old, { u: '1' }, { index: indexKey(t) })
        const rotation = {
          index: indexKey(t),
          replaces: old,
          replacesIndex: indexKey(t),
          requires: old,
        }
        const results = await Promise.all(next.map((key) => create(key, { u: '1' }, rotation)))
        const winners = results.flatMap((won, i) => (won ? [i] : []))
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`)
        const won = next[winners[0] as number] as string
        const lost = next[1 - (winners[0] as number)] as string
        assert.equal(await kit.store.get(old), null, `round ${round}`)
        assertRecord(await kit.store.get(won), { u: '1' }, `round ${round}`)
        assert.equal(
          await kit.store.get(lost),
          null,
          `round ${round}: the lost rotation was written`,
        )
        assert.deepEqual(await kit.store.members(indexKey(t)), [won], `round ${round}`)
      }
    })
  })
}

/** Guarantees of the SQL stores' issue that a store must hold under races and at scale. */
export function sqlRaceTests(kit: ConformanceKit): void {
  const { describe, it, before, create, sorted, tag, sessionKey, indexKey, wait } = kit

  describe('races, expiry and size (SQL stores)', () => {
    it('concurrent creates of one key: exactly one wins, with its own fields (20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const t = tag()
        const key = sessionKey(t)
        const results = await Promise.all(
          [0, 1, 2, 3, 4].map((i) => create(key, { w: String(i) }, { index: indexKey(t) })),
        )
        const winners = results.flatMap((won, i) => (won ? [i] : []))
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`)
        assertRecord(await kit.store.get(key), { w: String(winners[0]) }, `round ${round}`)
        assert.deepEqual(await kit.store.members(indexKey(t)), [key], `round ${round}`)
      }
    })

    it('two rotations of one record racing, each requiring it: exactly one wins (10 rounds)', async () => {
      for (let round = 0; round < 10; round++) {
        const t = tag()
        const old = sessionKey(t)
        const next = [sessionKey(t), sessionKey(t)]
        await create(old, { u: '1' }, { index: indexKey(t) })
        const rotation = {
          index: indexKey(t),
          replaces: old,
          replacesIndex: indexKey(t),
          requires: old,
        }
        const results = await Promise.all(next.map((key) => create(key, { u: '1' }, rotation)))
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`)
        const winner = next[results.indexOf(true)] as string
        assert.equal(await kit.store.get(old), null, `round ${round}`)
        assert.equal(await kit.store.get(next[results.indexOf(false)] as string), null)
        assert.deepEqual(await kit.store.members(indexKey(t)), [winner], `round ${round}`)
      }
    })

    it('a touch racing a destroy never leaves the record behind (both orders, 20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const t = tag()
        const key = sessionKey(t)
        await create(key, { u: '1' }, { index: indexKey(t) })
        const touch = () => kit.store.touch(key, 60, { t: String(round) })
        const destroy = () => kit.store.destroy(key, indexKey(t))
        await Promise.all(round % 2 === 0 ? [destroy(), touch()] : [touch(), destroy()])
        assert.equal(await kit.store.get(key), null, `round ${round}`)
        assert.deepEqual(await kit.store.members(indexKey(t)), [], `round ${round}`)
      }
    })

    it('members and destroyIndex over an index of 1,100 records, three of them kept', async () => {
      const t = tag()
      const keys = Array.from({ length: 1100 }, () => sessionKey(t))
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(
          keys.slice(i, i + 50).map((key) => create(key, { u: '1' }, { index: indexKey(t) })),
        )
      }
      assert.deepEqual(await sorted(indexKey(t)), [...keys].sort())
      const kept = [keys[0], keys[550], keys[1099]] as string[]
      assert.equal(await kit.store.destroyIndex(indexKey(t), kept), 1097)
      assert.deepEqual(await sorted(indexKey(t)), [...kept].sort())
      assert.equal(await kit.store.get(keys[1] as string), null)
      assert.equal(await kit.store.get(keys[1098] as string), null)
      for (const key of kept) assertRecord(await kit.store.get(key), { u: '1' })
    })

    describe('after expiry', () => {
      const t = tag()
      const expired = sessionKey(t)
      const first = indexKey(t)
      const second = indexKey(`${t}-second`)

      before(async () => {
        await create(expired, { old: '1' }, { ttl: 1, index: first })
        await wait(1200)
      })

      it('a create over an expired record succeeds, with none of the old fields or index entries', async () => {
        assert.equal(await create(expired, { new: '1' }, { index: second }), true)
        assertRecord(await kit.store.get(expired), { new: '1' })
        assert.deepEqual(await kit.store.members(first), [])
        assert.deepEqual(await kit.store.members(second), [expired])
      })
    })
  })
}
