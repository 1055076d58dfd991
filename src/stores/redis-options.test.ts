// What RedisStore's constructor refuses, with no Redis server: the clients are never connected.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { LoginManagerError } from '../core/errors.ts'
import { RedisStore, type RedisStoreOptions } from './redis.ts'

const refusedWith = (message: string | RegExp) => (error: unknown) => {
  assert.ok(error instanceof LoginManagerError, `a LoginManagerError, got ${error}`)
  assert.equal(error.code, 'ERR_INVALID_OPTION')
  if (typeof message === 'string') assert.equal(error.message, message)
  else assert.match(error.message, message)
  return true
}

describe('new RedisStore(…) with the wrong call shape', () => {
  const ioredis = new Redis({ lazyConnect: true })
  const nodeRedis = createClient()

  it('the client itself instead of { client } is refused at construction, with the right call', () => {
    for (const client of [ioredis, nodeRedis]) {
      assert.throws(
        () => new RedisStore(client as unknown as RedisStoreOptions),
        refusedWith(
          'ERR_INVALID_OPTION: RedisStore: got a Redis client where it takes options: write new RedisStore({ client }), not new RedisStore(client)',
        ),
      )
    }
  })

  it('no options at all', () => {
    for (const options of [undefined, null, 'redis://127.0.0.1']) {
      assert.throws(
        () => new RedisStore(options as unknown as RedisStoreOptions),
        refusedWith(
          /^ERR_INVALID_OPTION: RedisStore: expected an options object, got \w+; create it with new RedisStore\(\{ client \}\)$/,
        ),
      )
    }
  })

  it('a client command method (ioredis.client) is not a client', () => {
    const client = (ioredis as unknown as { client: unknown }).client
    assert.equal(typeof client, 'function')
    assert.throws(
      () => new RedisStore({ client } as unknown as RedisStoreOptions),
      refusedWith(/RedisStore client must be an ioredis client/),
    )
  })

  it('the right shape is accepted for both clients', () => {
    assert.ok(new RedisStore({ client: ioredis }))
    assert.ok(new RedisStore({ client: nodeRedis }))
  })
})
