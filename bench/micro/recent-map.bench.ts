/**
 * The bounded caches' eviction (`RecentMap` in src/shared/recent-map.ts, used by the cookie
 * backend's decrypt cache and the session-protection identifiers) against a single `Map` that
 * drops its oldest entry on each insertion once full, under churn: every operation inserts a key
 * never seen before, as each login's freshly sealed cookie value does.
 *
 *   npx tsx --conditions=login-manager-source bench/micro/recent-map.bench.ts
 */
import { RecentMap } from '../../src/shared/recent-map.ts'
import { pair } from './pair.ts'

const LIMIT = 10_000

const recent = new RecentMap<number, object>(LIMIT)
const fifo = new Map<number, object>()
let a = 0
let b = 0
await pair(
  'a full cache of 10,000, a new key on every insertion',
  () => recent.set(a++, { a }),
  () => {
    if (fifo.size >= LIMIT) fifo.delete(fifo.keys().next().value as number)
    fifo.set(b, { b })
    b++
  },
)
