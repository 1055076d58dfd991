/**
 * Micro-benchmark of the revocation check on the hot path, in-process:
 *
 *   npx tsx --conditions=login-manager-source src/session/revocations.bench.ts
 *
 * `RevocationList.has` (a hit and a miss, on an empty list and on a full one), and the cookie
 * backend's cached load (what every request with a session cookie does) without a list, with an
 * empty one and with a full one: the difference is what the check costs a request. Batches of
 * the cases are interleaved; the best and the median batch are reported. Figures go in
 * bench/README.md, not in code comments.
 */
import { randomBytes } from 'node:crypto'
import { KeyRing } from '../crypto/keys.ts'
import { CookieSessionBackend } from './cookie-backend.ts'
import { newRevocationId, RevocationList } from './revocations.ts'
import { Session } from './session.ts'

const FULL = Number(process.env.BENCH_REVOKED ?? 1_000_000)
const NAME = '__Host-session'
const now = () => Date.now()

function list(size: number): RevocationList {
  const revocations = new RevocationList({
    store: undefined,
    maxEntries: Math.max(size, 1),
    resyncInterval: 5,
    now,
    onError: () => {},
  })
  const until = Math.floor(now() / 1000) + 12 * 3600
  for (let i = 0; i < size; i++) revocations.revoke(newRevocationId(), until - (i % 43_200))
  return revocations
}

function backend(revocations: RevocationList | undefined) {
  const keys = new KeyRing([randomBytes(32).toString('base64url')]).forPurpose('session')
  const b =
    revocations === undefined
      ? new CookieSessionBackend(keys, NAME)
      : new CookieSessionBackend(keys, NAME, {
          list: revocations,
          idleTimeout: 3600,
          absoluteTimeout: 43_200,
          now,
        })
  const seconds = Math.floor(now() / 1000)
  const session = new Session({ createdAt: seconds, lastActive: seconds, isNew: true })
  session._setAuth({ userId: 'leafstorm', fresh: true, identifier: 'x'.repeat(22) })
  const value = b.save(session, seconds).value
  if (!b.load(value).ok) throw new Error('the sealed session should load')
  return { b, value }
}

let sink: unknown

function bench(cases: [string, () => unknown][], batches = 40): void {
  const once = (fn: () => unknown, n: number) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) sink = fn()
    return Number(process.hrtime.bigint() - start)
  }
  let n = 10_000
  while (once(cases[0]![1], n) < 10e6 && n < 1e8) n *= 2
  for (const [, fn] of cases) once(fn, n)
  const perOp = cases.map(() => [] as number[])
  for (let b = 0; b < batches; b++) {
    cases.forEach(([, fn], i) => {
      perOp[i]!.push(once(fn, n) / n)
    })
  }
  cases.forEach(([label], i) => {
    const sorted = perOp[i]!.sort((x, y) => x - y)
    console.log(
      `${label.padEnd(58)} best ${sorted[0]!.toFixed(1).padStart(6)} ns   median ${sorted[sorted.length >> 1]!.toFixed(1).padStart(6)} ns`,
    )
  })
}

const empty = list(0)
const full = list(FULL)
const probe = newRevocationId()
const listed = (() => {
  const id = newRevocationId()
  full.revoke(id, Math.floor(now() / 1000) + 3600)
  return id
})()
console.log(`a full list: ${full.size.toLocaleString('en-US')} ids\n`)
bench([
  ['has(id), miss, empty list', () => empty.has(probe)],
  ['has(id), miss, full list', () => full.has(probe)],
  ['has(id), hit, full list', () => full.has(listed)],
])
console.log('')
const none = backend(undefined)
const withEmpty = backend(empty)
const withFull = backend(full)
bench([
  ['backend.load(value), cache hit, no revocation list', () => none.b.load(none.value)],
  ['backend.load(value), cache hit, empty list', () => withEmpty.b.load(withEmpty.value)],
  ['backend.load(value), cache hit, full list', () => withFull.b.load(withFull.value)],
])
if (sink === Symbol.for('never')) console.log(sink)
