/**
 * What `seal` (src/crypto/seal.ts) costs on the login path, and why its IVs (and revocation ids) come from a pool (`pooledRandomBytes`, src/crypto/random.ts):
 * drawing 12 random bytes per call against cutting them from bytes drawn 256 IVs at a time, the
 * cipher object every seal needs (node:crypto has no way to reuse a GCM cipher with a new IV), and
 * the whole seal of a login's payload.
 *
 *   npx tsx --conditions=login-manager-source bench/micro/seal.bench.ts
 *
 * Each case runs in batches; the fastest batch is reported (other processes only ever add time),
 * the median beside it.
 */
import { createCipheriv, randomBytes, randomFillSync } from 'node:crypto'
import { KeyRing } from '../../src/crypto/keys.ts'
import { seal } from '../../src/crypto/seal.ts'

const BATCHES = Number(process.env.MICRO_BATCHES ?? 30)
const PER_BATCH = 5_000
let sink: unknown

function bench(name: string, fn: () => unknown): number {
  for (let i = 0; i < PER_BATCH; i++) sink = fn()
  const batches: number[] = []
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < PER_BATCH; i++) sink = fn()
    batches.push(Number(process.hrtime.bigint() - start) / PER_BATCH)
  }
  batches.sort((a, b) => a - b)
  const best = batches[0]!
  const median = batches[batches.length >> 1]!
  console.log(
    `${name.padEnd(58)} ${(best / 1000).toFixed(2).padStart(7)} µs  (median ${(median / 1000).toFixed(2)})`,
  )
  return best
}

const IV = 12
let pool = Buffer.alloc(0)
let offset = 0
const pooledIv = () => {
  if (offset + IV > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(IV * 256))
    offset = 0
  }
  const iv = pool.subarray(offset, offset + IV)
  offset += IV
  return iv
}

const perCall = bench('IV: randomFillSync(12 bytes) per seal', () =>
  randomFillSync(Buffer.allocUnsafe(IV)),
)
const pooled = bench('IV: cut from a pool of 256 IVs', pooledIv)
const key = randomBytes(32)
bench('createCipheriv(aes-256-gcm) with a pooled IV', () =>
  createCipheriv('aes-256-gcm', key, pooledIv(), { authTagLength: 16 }),
)
const keys = new KeyRing([randomBytes(32).toString('base64url')]).forPurpose('session')
// A login's payload as encodePayload writes it: id, times, user, freshness, client identifier.
const payload = JSON.stringify({
  c: 1_764_633_600,
  t: 1_764_633_600,
  s: randomBytes(16).toString('base64url'),
  a: { u: 'leafstorm', f: 1, i: 'Xq3ZlC1q0b8m2kqv3nYt4w' },
})
bench('seal(a login payload), as shipped', () => seal(keys, payload, '__Host-session'))
console.log(
  `\nThe pool saves ${((perCall - pooled) / 1000).toFixed(2)} µs a seal, once per login and per re-seal.`,
)
void sink
