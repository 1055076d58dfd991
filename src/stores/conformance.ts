import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import type * as NodeTest from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { randomUuid } from '../crypto/random.ts'
import type { SessionStore, StoreWrite } from '../session/store.ts'

/**
 * Options of {@link runStoreConformance}.
 *
 * @example
 * ```ts
 * const clock = { now: Date.now() }
 * runStoreConformance('MemoryStore', () => new MemoryStore({ now: () => clock.now }), {
 *   supportsTimeTravel: { advance: (ms) => { clock.now += ms } },
 * })
 * ```
 */
export interface StoreConformanceOptions {
  /** Called once after the suite, with the store, to delete what the suite wrote. */
  readonly cleanup?: ((store: SessionStore) => Promise<void>) | undefined
  /**
   * A fake clock driving the store (for example the `now` of a `MemoryStore`): the expiry tests
   * then advance it instead of waiting. Without it they wait about 1.2 s of real time, twice.
   */
  readonly supportsTimeTravel?: { advance(ms: number): void } | undefined
}

/**
 * Registers (with `node:test`) a suite that checks a {@link SessionStore} implementation against
 * the contract login-manager relies on: conditional writes that never resurrect or permissively
 * create a record, atomic rotation (`replaces`), compare-and-set (`expect`) and writes that
 * depend on another record (`requires`), alone and racing, field updates that do not clobber
 * each other, touch, expiry, per-user indexes, `destroyIndex` counts, and opaque keys and values. Run it in a
 * test file with `node --test`.
 *
 * Every test writes under fresh random keys (`lm:{conf-<run>-<n>}:…`), so suites can run in
 * parallel against one shared server. The store is made once, in a `before` hook. Expiry is
 * checked at second granularity: a record written with `ttl: 1` must be gone 1.2 s later, and one
 * touched to `ttl: 30` must not.
 *
 * @example
 * ```ts
 * import { runStoreConformance } from 'login-manager/testing'
 *
 * runStoreConformance('MyStore', () => new MyStore(pool), {
 *   cleanup: async () => { await pool.query("DELETE FROM sessions WHERE key LIKE 'lm:{conf-%'") },
 * })
 * ```
 *
 * @throws Never itself; each failed check fails its test with an `AssertionError`.
 */
export function runStoreConformance(
  name: string,
  makeStore: () => SessionStore | Promise<SessionStore>,
  options: StoreConformanceOptions = {},
): void {
  // Loaded on call, not on import: `login-manager/testing` stays importable where `node:test` is
  // missing or unwanted (other test runners, other runtimes).
  const { after, before, describe, it } = createRequire(import.meta.url)(
    'node:test',
  ) as typeof NodeTest
  const run = randomUuid().slice(0, 8)
  let counter = 0
  /** A fresh hash tag: one user, so to speak, per test. */
  const tag = (): string => `conf-${run}-${++counter}`
  const sessionKey = (t: string): string => `lm:{${t}}:s:${randomUuid()}`
  const indexKey = (t: string): string => `lm:{${t}}:idx`
  const wait = async (ms: number): Promise<void> => {
    if (options.supportsTimeTravel) options.supportsTimeTravel.advance(ms)
    else await sleep(ms)
  }

  describe(`${name}: SessionStore conformance`, () => {
    let store: SessionStore
    const create = (key: string, set: Record<string, string>, more: Partial<StoreWrite> = {}) =>
      store.write(key, { mode: 'create', set, ttl: 60, ...more })
    const update = (key: string, set: Record<string, string>, more: Partial<StoreWrite> = {}) =>
      store.write(key, { mode: 'update', set, ttl: 60, ...more })
    const sorted = async (index: string): Promise<string[]> => (await store.members(index)).sort()

    before(async () => {
      store = await makeStore()
    })
    after(async () => {
      if (store !== undefined) await options.cleanup?.(store)
    })

    describe('records', () => {
      it('get of a missing key is null', async () => {
        assert.equal(await store.get(sessionKey(tag())), null)
      })

      it('create, then get returns exactly the fields written', async () => {
        const key = sessionKey(tag())
        assert.equal(await create(key, { u: '42', c: '1700000000', f: '1' }), true)
        assertRecord(await store.get(key), { u: '42', c: '1700000000', f: '1' })
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
        assertRecord(await store.get(key), { u: '1' })
        assertRecord(
          await store.get(other),
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
        assert.equal(await store.get(key), null)
        assertRecord(await store.get(old), { u: '1' }, 'the replaced key survives a refused write')
        assert.deepEqual(await sorted(indexKey(t)), [old])
      })

      it('update sets and removes fields and keeps the others', async () => {
        const key = sessionKey(tag())
        await create(key, { a: '1', b: '2', c: '3' })
        assert.equal(await update(key, { b: 'two', d: '4' }, { remove: ['c'] }), true)
        assertRecord(await store.get(key), { a: '1', b: 'two', d: '4' })
      })

      it('touch of a missing key is false and creates nothing, even with fields', async () => {
        const key = sessionKey(tag())
        assert.equal(await store.touch(key, 60, { t: '1' }), false)
        assert.equal(await store.get(key), null)
      })

      it('touch sets fields and keeps the others', async () => {
        const key = sessionKey(tag())
        await create(key, { u: '1', t: '100' })
        assert.equal(await store.touch(key, 60, { t: '200' }), true)
        assert.equal(await store.touch(key, 60), true)
        assertRecord(await store.get(key), { u: '1', t: '200' })
      })

      it('destroy deletes the record and is idempotent', async () => {
        const t = tag()
        const key = sessionKey(t)
        await create(key, { u: '1' }, { index: indexKey(t) })
        await store.destroy(key, indexKey(t))
        assert.equal(await store.get(key), null)
        assert.deepEqual(await store.members(indexKey(t)), [])
        await store.destroy(key, indexKey(t))
        await store.destroy(key)
        await store.destroy(sessionKey(tag()), indexKey(tag()))
        assert.equal(await store.get(key), null)
      })

      it('records are copied: changing a written or returned object changes nothing stored', async () => {
        const key = sessionKey(tag())
        const set: Record<string, string> = { u: '1' }
        await create(key, set)
        set.u = 'changed'
        set.extra = 'x'
        const read = await store.get(key)
        assert.ok(read)
        read.u = 'mutated'
        read.more = 'y'
        assertRecord(await store.get(key), { u: '1' })
      })
    })

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
        assert.equal(await store.get(old), null)
        assertRecord(await store.get(next), { u: '1', v: 'new' })
        assert.deepEqual(await sorted(indexKey(t)), [keep, next].sort())
        assert.equal(await update(old, { v: 'late' }), false, 'the old record cannot come back')
        assert.equal(await store.get(old), null)
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
        assertRecord(await store.get(key), { u: '1' })
        assert.deepEqual(await store.members(indexKey(t)), [key])
      })
    })

    describe('conditions', () => {
      it('update with expect writes only while every expected field holds exactly its value', async () => {
        const key = sessionKey(tag())
        await create(key, { h: 'first', x: '1' })
        assert.equal(await update(key, { h: 'next' }, { expect: { h: 'other' } }), false)
        assert.equal(await update(key, { h: 'next' }, { expect: { h: 'first', x: '2' } }), false)
        assert.equal(await update(key, { h: 'next' }, { expect: { missing: '' } }), false)
        assertRecord(
          await store.get(key),
          { h: 'first', x: '1' },
          'a refused write changes nothing',
        )
        assert.equal(await update(key, { h: 'next' }, { expect: { h: 'first', x: '1' } }), true)
        assertRecord(await store.get(key), { h: 'next', x: '1' })
        assert.equal(
          await update(key, { h: 'again' }, { expect: { h: 'first' } }),
          false,
          'the value read before the first write no longer matches',
        )
        assert.equal(await update(key, {}, { expect: { h: 'next' }, remove: ['x'] }), true)
        assertRecord(await store.get(key), { h: 'next' })
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
        assertRecord(await store.get(key), { h: 'a' })
        assertRecord(await store.get(other), { u: '1' }, 'the replaced key survives')
        assert.deepEqual(await store.members(indexKey(t)), [])
      })

      it('a create with expect is a RangeError, and writes nothing', async () => {
        const key = sessionKey(tag())
        await assert.rejects(
          store.write(key, { mode: 'create', set: { u: '1' }, ttl: 60, expect: { u: '1' } }),
          RangeError,
        )
        assert.equal(await store.get(key), null)
      })

      it('requires: the write happens while the required key exists, and never once it is gone', async () => {
        const t = tag()
        const token = sessionKey(t)
        const [a, b, c] = [sessionKey(t), sessionKey(t), sessionKey(t)]
        await create(token, { u: '1' }, { index: indexKey(t) })
        assert.equal(await create(a, { u: '1' }, { requires: token, index: indexKey(t) }), true)
        assert.equal(await update(a, { t: '2' }, { requires: token }), true)
        await store.destroy(token, indexKey(t))
        assert.equal(await create(b, { u: '1' }, { requires: token, index: indexKey(t) }), false)
        assert.equal(await update(a, { t: '3' }, { requires: token }), false)
        assert.equal(await store.get(b), null)
        assertRecord(await store.get(a), { u: '1', t: '2' }, 'a refused update changes nothing')
        assert.deepEqual(await store.members(indexKey(t)), [a], 'a refused create is not indexed')
        assert.equal(await create(c, { u: '1' }, { requires: sessionKey(t) }), false)
        assert.equal(await store.get(c), null)
      })

      it('a rotation that requires the record it replaces is refused once that record is gone', async () => {
        const t = tag()
        const old = sessionKey(t)
        const [next, late] = [sessionKey(t), sessionKey(t)]
        await create(old, { u: '1' }, { index: indexKey(t) })
        const rotation = { index: indexKey(t), replaces: old, replacesIndex: indexKey(t) }
        assert.equal(await create(next, { u: '1' }, { ...rotation, requires: old }), true)
        assert.equal(await store.get(old), null, 'the rotation deleted the record it replaced')
        // A request that loaded `old` before the rotation (or a logout) rotates it too, late.
        assert.equal(await create(late, { u: '1' }, { ...rotation, requires: old }), false)
        assert.equal(await store.get(late), null, 'a replaced record cannot come back as a new id')
        assert.deepEqual(await store.members(indexKey(t)), [next])
      })
    })

    describe('concurrency', () => {
      it('two concurrent updates of different fields both persist', async () => {
        const key = sessionKey(tag())
        await create(key, { a: '0', b: '0', c: 'kept' })
        const results = await Promise.all([update(key, { a: '1' }), update(key, { b: '1' })])
        assert.deepEqual(results, [true, true])
        assertRecord(await store.get(key), { a: '1', b: '1', c: 'kept' })
      })

      it('an update after a destroy is refused and does not bring the record back', async () => {
        const key = sessionKey(tag())
        await create(key, { u: '1' })
        await store.destroy(key)
        assert.equal(await update(key, { u: '1', t: '2' }), false)
        assert.equal(await store.touch(key, 60, { t: '3' }), false)
        assert.equal(await store.get(key), null)
      })

      it('an update racing a destroy never leaves the record behind (both orders, 20 rounds)', async () => {
        for (let round = 0; round < 20; round++) {
          const t = tag()
          const key = sessionKey(t)
          await create(key, { u: '1' }, { index: indexKey(t) })
          const racers =
            round % 2 === 0
              ? [store.destroy(key, indexKey(t)), update(key, { t: String(round) })]
              : [update(key, { t: String(round) }), store.destroy(key, indexKey(t))]
          await Promise.all(racers)
          assert.equal(await store.get(key), null, `round ${round}`)
          assert.deepEqual(await store.members(indexKey(t)), [], `round ${round}`)
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
          assert.equal(await store.get(old), null, `round ${round}`)
          assertRecord(await store.get(next), { u: '1' }, `round ${round}`)
          assert.deepEqual(await store.members(indexKey(t)), [next], `round ${round}`)
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
          assertRecord(await store.get(key), { h: `w${winners[0]}`, other: 'kept' })
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
              if ((await store.destroyIndex(indexKey(t))) === 0) return
            }
          }
          const restore = () =>
            create(restored, { u: '1' }, { requires: token, index: indexKey(t) })
          await Promise.all(round % 2 === 0 ? [everywhere(), restore()] : [restore(), everywhere()])
          assert.equal(await store.get(token), null, `round ${round}`)
          assert.equal(await store.get(restored), null, `round ${round}: the restore survived`)
          assert.deepEqual(await store.members(indexKey(t)), [], `round ${round}`)
        }
      })
    })

    describe('index', () => {
      it('members lists the records added by create and by update', async () => {
        const t = tag()
        const a = sessionKey(t)
        const b = sessionKey(t)
        await create(a, { u: '1' }, { index: indexKey(t) })
        await create(b, { u: '1' })
        assert.deepEqual(await store.members(indexKey(t)), [a])
        assert.equal(await update(b, {}, { index: indexKey(t) }), true)
        assert.deepEqual(await sorted(indexKey(t)), [a, b].sort())
      })

      it('a destroyed record leaves members, even when destroyed without its index', async () => {
        const t = tag()
        const [a, b, c] = [sessionKey(t), sessionKey(t), sessionKey(t)]
        for (const key of [a, b, c]) await create(key, { u: '1' }, { index: indexKey(t) })
        await store.destroy(a, indexKey(t))
        await store.destroy(b)
        assert.deepEqual(await store.members(indexKey(t)), [c])
      })

      it('destroyIndex without keep destroys every record and returns the count', async () => {
        const t = tag()
        const keys = [sessionKey(t), sessionKey(t), sessionKey(t)]
        for (const key of keys) await create(key, { u: '1' }, { index: indexKey(t) })
        assert.equal(await store.destroyIndex(indexKey(t)), 3)
        for (const key of keys) assert.equal(await store.get(key), null)
        assert.deepEqual(await store.members(indexKey(t)), [])
        assert.equal(await store.destroyIndex(indexKey(t)), 0)
      })

      it('destroyIndex with keep leaves the kept records alive and listed', async () => {
        const t = tag()
        const keys = [sessionKey(t), sessionKey(t), sessionKey(t), sessionKey(t)]
        for (const key of keys) await create(key, { u: '1' }, { index: indexKey(t) })
        const [current, other, ...rest] = keys as [string, string, ...string[]]
        assert.equal(await store.destroyIndex(indexKey(t), [current, other]), rest.length)
        assertRecord(await store.get(current), { u: '1' })
        assertRecord(await store.get(other), { u: '1' })
        for (const key of rest) assert.equal(await store.get(key), null)
        assert.deepEqual(await sorted(indexKey(t)), [current, other].sort())
      })

      it('destroyIndex counts only records that still existed', async () => {
        const t = tag()
        const [a, b] = [sessionKey(t), sessionKey(t)]
        await create(a, { u: '1' }, { index: indexKey(t) })
        await create(b, { u: '1' }, { index: indexKey(t) })
        await store.destroy(a)
        assert.equal(await store.destroyIndex(indexKey(t)), 1)
        assert.equal(await store.get(b), null)
      })

      it('an index that was never written has no members and destroys nothing', async () => {
        const t = tag()
        assert.deepEqual(await store.members(indexKey(t)), [])
        assert.equal(await store.destroyIndex(indexKey(t)), 0)
        assert.equal(await store.destroyIndex(indexKey(t), [sessionKey(t)]), 0)
      })
    })

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
        assert.equal(await store.touch(keys.touched, 30, { t: '2' }), true)
        assert.equal(await update(keys.shortened, { t: '2' }, { ttl: 1 }), true)
        assertRecord(await store.get(keys.expired), { u: '1' }, 'alive before its ttl')
        await wait(1200)
      })

      it('a record is gone once its ttl has passed, and cannot be updated or touched', async () => {
        assert.equal(await store.get(keys.expired), null)
        assert.equal(await update(keys.expired, { u: '1' }), false)
        assert.equal(await store.touch(keys.expired, 30, { u: '1' }), false)
        assert.equal(await store.get(keys.expired), null)
      })

      it('touch extends the ttl (counted from the touch) and sets its fields', async () => {
        assertRecord(await store.get(keys.touched), { u: '1', t: '2' })
      })

      it('update sets the ttl, counted from the update', async () => {
        assert.equal(await store.get(keys.shortened), null)
      })

      it('members drops expired records; an index of expired records is empty', async () => {
        assert.deepEqual(await sorted(index), [keys.living, keys.touched].sort())
        assert.deepEqual(await store.members(lonelyIndex), [])
        assert.equal(await store.destroyIndex(lonelyIndex), 0)
      })
    })

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
          assertRecord(await store.get(key), { w: String(winners[0]) }, `round ${round}`)
          assert.deepEqual(await store.members(indexKey(t)), [key], `round ${round}`)
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
          assert.equal(await store.get(old), null, `round ${round}`)
          assertRecord(await store.get(won), { u: '1' }, `round ${round}`)
          assert.equal(await store.get(lost), null, `round ${round}: the lost rotation was written`)
          assert.deepEqual(await store.members(indexKey(t)), [won], `round ${round}`)
        }
      })
    })

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
        assert.equal(await store.get(key), null, 'a record without fields does not exist')
        assert.deepEqual(await store.members(indexKey(t2)), [])
        assert.equal(await update(key, { a: '3' }), false, 'and cannot be updated back')
        assert.equal(await store.get(key), null)
      })

      it('a create on a key whose record expired writes a new record, none of the old fields', async () => {
        assert.equal(await store.get(reused), null)
        assert.equal(await create(reused, { u: 'new' }, { index: indexKey(t) }), true)
        assertRecord(await store.get(reused), { u: 'new' })
        assert.deepEqual(await store.members(indexKey(t)), [reused])
      })
    })

    describe('hostile and unusual input', () => {
      it('1,000 reads, touches and updates of random missing keys create nothing', async () => {
        const t = tag()
        const keys = Array.from({ length: 1000 }, () => sessionKey(t))
        const before = await Promise.all(keys.map((key) => store.get(key)))
        assert.equal(before.filter((record) => record !== null).length, 0)
        const touched = await Promise.all(keys.slice(0, 200).map((k) => store.touch(k, 60)))
        const updated = await Promise.all(keys.slice(200, 400).map((k) => update(k, { u: '1' })))
        assert.equal(touched.filter(Boolean).length, 0)
        assert.equal(updated.filter(Boolean).length, 0)
        await Promise.all(keys.slice(400, 600).map((key) => store.destroy(key, indexKey(t))))
        const after = await Promise.all(keys.map((key) => store.get(key)))
        assert.equal(after.filter((record) => record !== null).length, 0)
        assert.deepEqual(await store.members(indexKey(t)), [])
      })

      it('unicode, quotes, control characters, empty and 10 KB values round-trip', async () => {
        const key = sessionKey(tag())
        const fields: Record<string, string> = {
          unicode: 'héllo wörld ✓ 日本語 🍪 👩‍👩‍👧',
          quotes: `it's "quoted" \`back\` \\ backslash`,
          control: 'line\nbreak\r\ttab\u0000nul\u001b[31m',
          lua: "']] .. redis.call('FLUSHALL') .. [['",
          json: '{"a":[1,2,{"b":null}],"c":"\\u0000"}',
          empty: '',
          big: `${'x'.repeat(10 * 1024 - 3)}end`,
          'field with spaces, ünïcode & "quotes"': 'v',
          constructor: 'c',
          toString: 't',
        }
        // Field names are opaque too, `__proto__` included (as an own property).
        define(fields, '__proto__', 'p')
        assert.equal(await create(key, fields), true)
        assertRecord(await store.get(key), fields)
        assert.equal(await update(key, { unicode: '∀x ∈ ℝ' }, { remove: ['__proto__'] }), true)
        const expected = { ...fields, unicode: '∀x ∈ ℝ' }
        Reflect.deleteProperty(expected, '__proto__')
        assertRecord(await store.get(key), expected)
      })

      it('keys are opaque: braces, colons, glob characters and spaces round-trip and match nothing else', async () => {
        const t = tag()
        const weird = `lm:{${t}}:s:{}:*?[] weird key ${randomUuid()}`
        const star = `lm:{${t}}:s:*`
        const index = `lm:{${t}}:idx:[*] ?`
        assert.equal(await create(weird, { u: '1' }, { index }), true)
        assert.equal(await create(star, { u: '2' }, { index }), true)
        assertRecord(await store.get(weird), { u: '1' })
        assertRecord(await store.get(star), { u: '2' })
        assert.equal(await store.get(`lm:{${t}}:s:?`), null)
        assert.equal(await store.get(`lm:{${t}}:s:[*]`), null)
        assert.equal(await store.get(`lm:{${t}}:s:`), null)
        assert.deepEqual(await sorted(index), [weird, star].sort())
        assert.deepEqual(await store.members(`lm:{${t}}:idx:*`), [])
        assert.equal(await store.destroyIndex(`lm:{${t}}:idx:*`), 0)
        assert.equal(await store.destroyIndex(index, [weird]), 1)
        assertRecord(await store.get(weird), { u: '1' })
        await store.destroy(weird, index)
        assert.equal(await store.get(weird), null)
      })
    })

    // Guarantees of the SQL stores' issue that a store must hold under races and at scale.
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
          assertRecord(await store.get(key), { w: String(winners[0]) }, `round ${round}`)
          assert.deepEqual(await store.members(indexKey(t)), [key], `round ${round}`)
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
          assert.equal(await store.get(old), null, `round ${round}`)
          assert.equal(await store.get(next[results.indexOf(false)] as string), null)
          assert.deepEqual(await store.members(indexKey(t)), [winner], `round ${round}`)
        }
      })

      it('a touch racing a destroy never leaves the record behind (both orders, 20 rounds)', async () => {
        for (let round = 0; round < 20; round++) {
          const t = tag()
          const key = sessionKey(t)
          await create(key, { u: '1' }, { index: indexKey(t) })
          const touch = () => store.touch(key, 60, { t: String(round) })
          const destroy = () => store.destroy(key, indexKey(t))
          await Promise.all(round % 2 === 0 ? [destroy(), touch()] : [touch(), destroy()])
          assert.equal(await store.get(key), null, `round ${round}`)
          assert.deepEqual(await store.members(indexKey(t)), [], `round ${round}`)
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
        assert.equal(await store.destroyIndex(indexKey(t), kept), 1097)
        assert.deepEqual(await sorted(indexKey(t)), [...kept].sort())
        assert.equal(await store.get(keys[1] as string), null)
        assert.equal(await store.get(keys[1098] as string), null)
        for (const key of kept) assertRecord(await store.get(key), { u: '1' })
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
          assertRecord(await store.get(expired), { new: '1' })
          assert.deepEqual(await store.members(first), [])
          assert.deepEqual(await store.members(second), [expired])
        })
      })
    })
  })
}

/** Defines an own, enumerable field (even `__proto__`, which assignment would not create). */
function define(record: Record<string, string>, field: string, value: string): void {
  Object.defineProperty(record, field, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

function assertRecord(
  actual: Readonly<Record<string, string>> | null,
  expected: Readonly<Record<string, string>>,
  message?: string,
): void {
  assert.notEqual(actual, null, message ?? 'the record exists')
  const entries = (record: Readonly<Record<string, string>>) =>
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  assert.deepEqual(entries(actual!), entries(expected), message)
}
