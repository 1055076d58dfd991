import { randomBytes, randomFillSync, randomUUID } from 'node:crypto'

/** `size` bytes from the CSPRNG, in base64url. */
export function randomBase64url(size: number): string {
  return randomBytes(size).toString('base64url')
}

/** A random RFC 4122 version 4 UUID. */
export function randomUuid(): string {
  return randomUUID()
}

/** Bytes drawn from the CSPRNG at once for {@link pooledRandomBytes}. */
const POOL_BYTES = 4096
/** Requests larger than this go to the CSPRNG directly: pooling pays only for small draws. */
const POOLED_MAX = 64
let pool = Buffer.alloc(0)
let poolOffset = 0

/**
 * `size` bytes from the CSPRNG, cut from a block drawn at once (bench/micro/seal.bench.ts): each
 * call into the CSPRNG costs far more than the few bytes an IV or an id needs. Every byte is
 * handed out once; a spent block is replaced, never refilled in place, so bytes given out (the
 * result is a view of the block) never change afterwards.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (size > POOLED_MAX) return randomBytes(size)
  if (poolOffset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES))
    poolOffset = 0
  }
  const bytes = pool.subarray(poolOffset, poolOffset + size)
  poolOffset += size
  return bytes
}
