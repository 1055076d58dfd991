import { createRequire } from 'node:module'
import type * as NodeTest from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { randomUuid } from '../crypto/random.ts'
import type { SessionStore, StoreWrite } from '../session/store.ts'
import { concurrencyTests, sqlRaceTests, writerRaceTests } from './conformance/concurrency.ts'
import { conditionTests } from './conformance/conditions.ts'
import { hostileInputTests } from './conformance/hostile-input.ts'
import { emptiedRecordTests, expiryTests, indexTests } from './conformance/index-and-expiry.ts'
import type { ConformanceKit } from './conformance/kit.ts'
import { recordTests, rotationTests } from './conformance/records.ts'

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

    const kit: ConformanceKit = {
      describe,
      it,
      before,
      // A getter: the groups register their tests before the `before` hook has made the store.
      get store() {
        return store
      },
      tag,
      sessionKey,
      indexKey,
      wait,
      create,
      update,
      sorted,
    }
    // Registration order is run order: node:test runs the groups one after another, in this order.
    recordTests(kit)
    rotationTests(kit)
    conditionTests(kit)
    concurrencyTests(kit)
    indexTests(kit)
    expiryTests(kit)
    writerRaceTests(kit)
    emptiedRecordTests(kit)
    hostileInputTests(kit)
    sqlRaceTests(kit)
  })
}
