/**
 * The store conformance kit (`runStoreConformance`) against every built-in store: MemoryStore
 * with a fake clock, and RedisStore over ioredis and over node-redis (and once in cluster mode,
 * which splits cross-slot writes into steps) on `REDIS_URL` (default redis://127.0.0.1:6379).
 * Redis keys live under a prefix unique to the run and are deleted afterwards. Without Redis the
 * Redis suites are skipped, except on CI (`CI=true`), where they fail.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { runStoreConformance } from '../../src/stores/conformance.ts'
import { MemoryStore } from '../../src/stores/memory.ts'
import { RedisStore } from '../../src/stores/redis.ts'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const run = `lmtest-${randomUUID().slice(0, 8)}`

const clock = { now: 1_700_000_000_000 }
runStoreConformance('MemoryStore', () => new MemoryStore({ now: () => clock.now }), {
  supportsTimeTravel: {
    advance(ms) {
      clock.now += ms
    },
  },
})

/** Why Redis cannot be used, or null when it answers a PING. */
async function probe(): Promise<string | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  let lastError: Error | undefined
  client.on('error', (err) => {
    lastError = err
  })
  try {
    await client.connect()
    await client.ping()
    return null
  } catch (err) {
    const why = lastError?.message ?? (err instanceof Error ? err.message : String(err))
    return `Redis at ${url} is unreachable (${why})`
  } finally {
    client.disconnect()
  }
}

/** Deletes every key under `prefix` (SCAN, then DEL), through a raw command function. */
async function deleteByPrefix(
  send: (args: string[]) => Promise<unknown>,
  prefix: string,
): Promise<number> {
  let cursor = '0'
  let deleted = 0
  do {
    const [next, keys] = (await send(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [
      string,
      string[],
    ]
    cursor = next
    if (keys.length > 0) deleted += Number(await send(['DEL', ...keys]))
  } while (cursor !== '0')
  return deleted
}

const unreachable = await probe()

if (unreachable === null) {
  // ioredis
  {
    let client: Redis | undefined
    const prefix = `${run}:io:`
    runStoreConformance(
      'RedisStore (ioredis)',
      () => {
        client = new Redis(url, { maxRetriesPerRequest: 1 })
        client.on('error', (err) => console.error('# ioredis:', err.message))
        return new RedisStore({ client, prefix })
      },
      { cleanup: () => cleanup(client, prefix) },
    )
  }
  // node-redis
  {
    const client = createClient({ url })
    client.on('error', (err: Error) => console.error('# node-redis:', err.message))
    const prefix = `${run}:nr:`
    runStoreConformance(
      'RedisStore (node-redis)',
      async () => {
        await client.connect()
        return new RedisStore({ client, prefix })
      },
      {
        async cleanup() {
          try {
            await deleteByPrefix((args) => client.sendCommand(args), prefix)
            const left = await deleteByPrefix((args) => client.sendCommand(args), prefix)
            assert.equal(left, 0)
          } finally {
            await client.close()
          }
        },
      },
    )
  }
  // ioredis, cluster mode: cross-slot writes (the conformance kit has a few) go in steps.
  {
    let client: Redis | undefined
    const prefix = `${run}:cl:`
    runStoreConformance(
      'RedisStore (ioredis, cluster: true)',
      () => {
        client = new Redis(url, { maxRetriesPerRequest: 1 })
        client.on('error', (err) => console.error('# ioredis:', err.message))
        return new RedisStore({ client, prefix, cluster: true })
      },
      { cleanup: () => cleanup(client, prefix) },
    )
  }
} else if (process.env.CI === 'true') {
  describe('RedisStore conformance', () => {
    it('needs a reachable Redis on CI', () => {
      assert.fail(`${unreachable}. Start Redis or set REDIS_URL; on CI the Redis suites must run.`)
    })
  })
} else {
  console.log(`# skipping the RedisStore conformance suites: ${unreachable}`)
  describe('RedisStore conformance', () => {
    for (const name of ['ioredis', 'node-redis', 'ioredis, cluster: true']) {
      it(`RedisStore (${name})`, (t) => {
        t.skip(unreachable)
      })
    }
  })
}

async function cleanup(client: Redis | undefined, prefix: string): Promise<void> {
  if (client === undefined) return
  try {
    const send = (args: string[]) => client.call(args[0]!, ...args.slice(1))
    await deleteByPrefix(send, prefix)
    assert.equal(await deleteByPrefix(send, prefix), 0)
  } finally {
    client.disconnect()
  }
}
