// What RedisStore's constructor accepts and refuses, and how it drives each client shape, with
// no Redis server: the clients are never connected.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster, createSentinel } from 'redis'
import { LoginManagerError } from '../shared/errors.ts'
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

describe('new RedisStore(…) with a Cluster or Sentinel client', () => {
  it('cluster mode is on by itself for ioredis Cluster and node-redis createCluster; cluster: false is refused', () => {
    const ioredis = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
    const nodeRedis = createCluster({ rootNodes: [{ socket: { host: '127.0.0.1', port: 1 } }] })
    try {
      for (const client of [ioredis, nodeRedis]) {
        assert.ok(new RedisStore({ client }))
        assert.ok(new RedisStore({ client, cluster: true }))
        assert.throws(
          () => new RedisStore({ client, cluster: false }),
          refusedWith(
            'ERR_INVALID_OPTION: RedisStore: cluster: false with a Redis Cluster client (ioredis Cluster, node-redis createCluster): remove the option, or set it to true; a cluster refuses writes whose keys lie in several hash slots',
          ),
        )
      }
    } finally {
      ioredis.disconnect()
    }
  })

  it('a node-redis createSentinel client is accepted, and not taken for a cluster', () => {
    const client = createSentinel({
      name: 'mymaster',
      sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }],
    })
    assert.ok(new RedisStore({ client }))
    assert.ok(new RedisStore({ client, cluster: false }))
  })

  it('a Sentinel-shaped client gets every command as a write (to the primary), reads included', async () => {
    const sent: [unknown, string | undefined][] = []
    const client = {
      getMasterNode: () => undefined,
      sendCommand: async (isReadonly: boolean | undefined, args: string[]) => {
        sent.push([isReadonly, args[0]])
        return []
      },
    }
    const store = new RedisStore({ client })
    assert.equal(await store.get('lm:{t}:s:1'), null)
    assert.deepEqual(await store.members('lm:{t}:idx'), [])
    assert.equal(await store.destroyIndex('lm:{t}:idx'), 0)
    assert.deepEqual(sent, [
      [false, 'EVALSHA'],
      [false, 'EVALSHA'],
      [false, 'EVALSHA'],
    ])
  })
})
