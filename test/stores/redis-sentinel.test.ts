/**
 * RedisStore behind Redis Sentinel: one primary, one replica and three sentinels, started for
 * this file on free ports (see `redis-topologies.ts`) and killed at the end. The clients are made
 * as the docs make them (`examples/snippets/redis-sentinel.ts`). On it: the store conformance
 * kit with ioredis (`Redis` with `sentinels`) and node-redis (`createSentinel`); the
 * multi-instance scenarios on three instances of the basic example, each with its own client;
 * reads answered by the primary even by a client that may read from replicas; then a primary
 * killed under load (`failover-load.ts`). A manual `SENTINEL FAILOVER` is not run: it does not
 * coordinate with the old primary, which Sentinel demotes only about ten seconds later, and
 * what it loses meanwhile is the client's doing (docs/redis-in-production.md says how much).
 *
 * Without redis-server or redis-cli the file is skipped with a printed reason, except on CI (`CI=true`),
 * where that is a failure.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, it, type TestContext } from 'node:test'
import { RedisStore } from 'login-manager/redis'
import { createSentinel } from 'redis'
import {
  createIoredisSentinelStore,
  createNodeRedisSentinelStore,
} from '../../examples/snippets/redis-sentinel.ts'
import { runStoreConformance } from '../../src/stores/conformance.ts'
import { failoverUnderLoad, startLoadApps } from './failover-load.ts'
import { type InstanceSet, instanceScenarios, startInstances } from './instance-scenarios.ts'
import { deleteOn, keysOn, probeTopologyTools, RedisSentinelSet } from './redis-topologies.ts'
import { ON_CI, sleep } from './support.ts'

const missing = probeTopologyTools()
if (missing !== null && !ON_CI) console.log(`# skipping the Redis Sentinel tests: ${missing}`)
// The kit checks what is stored, not how fast: its bursts of 1,000 operations must not time out
// on a busy machine.
const CONFORMANCE_TIMEOUT = 10_000
const run = `lmsn-${randomUUID().slice(0, 8)}`

describe('RedisStore behind Redis Sentinel (1 primary, 1 replica, 3 sentinels)', {
  skip: missing !== null && !ON_CI ? missing : false,
}, () => {
  if (missing !== null) {
    it('needs redis-server on CI', () => {
      assert.fail(`${missing}. Install Redis (redis-server, redis-cli); on CI this must run.`)
    })
    return
  }

  let sentinel: RedisSentinelSet
  const closers: (() => Promise<unknown> | unknown)[] = []

  before(async () => {
    sentinel = await RedisSentinelSet.start()
  })
  after(async () => {
    // A client that cannot say goodbye to a dead server is not waited for long.
    for (const close of closers.splice(0).reverse()) {
      await Promise.race([Promise.resolve(close()).catch(() => {}), sleep(2_000)])
    }
    if (sentinel !== undefined) {
      try {
        await deleteOn(await sentinel.primaryPort(), `${run}:`)
      } finally {
        await sentinel.stop()
      }
    }
  })

  /** A store made as the docs make it (`examples/snippets/redis-sentinel.ts`), under `prefix`. */
  async function docsStore(
    client: 'ioredis' | 'node-redis',
    prefix: string,
    log: (message: string) => void = () => {},
    commandTimeout?: number,
  ): Promise<RedisStore> {
    const env = {
      REDIS_SENTINELS: sentinel.sentinelAddresses
        .map(({ host, port }) => `${host}:${port}`)
        .join(','),
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_PREFIX: prefix,
    }
    // Closed for good at the end, whatever state a failover left the client in.
    if (client === 'ioredis') {
      const made = await createIoredisSentinelStore(env, log)
      made.client.on('end', () => log('the client ended'))
      closers.push(() => {
        made.close().catch(() => {})
        made.client.disconnect()
      })
      return commandTimeout === undefined
        ? made.store
        : new RedisStore({ client: made.client, prefix, commandTimeout })
    }
    const made = await createNodeRedisSentinelStore(env, log)
    closers.push(() => made.client.destroy())
    return commandTimeout === undefined
      ? made.store
      : new RedisStore({ client: made.client, prefix, commandTimeout })
  }

  /** A node-redis Sentinel client of the test's own, that may read from the replica. */
  async function nodeRedisSentinelReadingReplicas() {
    const client = createSentinel({
      name: sentinel.name,
      sentinelRootNodes: sentinel.sentinelAddresses,
      nodeClientOptions: { disableOfflineQueue: true, socket: { connectTimeout: 1_000 } },
      replicaPoolSize: 1,
    })
    client.on('error', () => {})
    closers.push(() => client.destroy())
    await client.connect()
    return client
  }

  runStoreConformance('RedisStore behind Sentinel (ioredis sentinels)', () =>
    docsStore('ioredis', `${run}:io:`, undefined, CONFORMANCE_TIMEOUT),
  )
  runStoreConformance('RedisStore behind Sentinel (node-redis createSentinel)', () =>
    docsStore('node-redis', `${run}:nr:`, undefined, CONFORMANCE_TIMEOUT),
  )

  for (const [label, first, second] of [
    ['ioredis, node-redis, ioredis', 'ioredis', 'node-redis'],
    ['node-redis, ioredis, node-redis', 'node-redis', 'ioredis'],
  ] as const) {
    describe(`three instances of the basic example, each with its own client (${label})`, () => {
      const secret = randomBytes(32).toString('base64url')
      const prefix = `${run}:inst-${first}:`
      let set: InstanceSet
      before(async () => {
        const store = (client: 'ioredis' | 'node-redis') => docsStore(client, prefix)
        const started = await startInstances(
          [
            { framework: 'express', name: `express (${first})`, store: await store(first) },
            { framework: 'hono', name: `hono (${second})`, store: await store(second) },
            { framework: 'fastify', name: `fastify (${first})`, store: await store(first) },
          ],
          secret,
        )
        closers.push(() => started.close())
        set = {
          instances: started.instances,
          secret,
          outsideStore: await store(second),
          storedKeys: async () => keysOn(await sentinel.primaryPort(), prefix),
        }
      })
      instanceScenarios(() => set)
    })
  }

  it('reads go to the primary even when the client reads from replicas (createSentinel replicaPoolSize): a stopped replica holds none', async () => {
    const client = await nodeRedisSentinelReadingReplicas()
    const store = new RedisStore({ client, prefix: `${run}:replicas:`, commandTimeout: 1_000 })
    const primary = await sentinel.primaryPort()
    const replica = sentinel.data.find((server) => server.port !== primary && server.running)
    assert.ok(replica !== undefined)
    const key = 'lm:{replica-reads}:s:1'
    const index = 'lm:{replica-reads}:idx'
    replica.pause()
    try {
      // The control: the client sends a plain read to the stopped replica, which answers nothing.
      const plain = await Promise.race([
        client.sendCommand(true, ['SMEMBERS', 'x']).then(() => 'answered'),
        new Promise((resolve) => setTimeout(resolve, 300, 'no answer')),
      ])
      assert.equal(plain, 'no answer', 'a plain read goes to the replica')
      assert.equal(
        await store.write(key, { mode: 'create', set: { u: '1' }, ttl: 60, index }),
        true,
      )
      assert.deepEqual({ ...(await store.get(key)) }, { u: '1' })
      assert.deepEqual(await store.members(index), [key])
      assert.equal(await store.destroyIndex(index), 1)
      assert.deepEqual(await store.members(index), [])
    } finally {
      replica.resume()
    }
  })

  describe('failovers under load', () => {
    const secret = randomBytes(32).toString('base64url')
    let apps: Awaited<ReturnType<typeof startLoadApps>>['apps']
    // What the load's clients reported, for the diagnostics of a failure.
    const notes: string[] = []
    const note = (client: string, message: string) => {
      const line = `${Math.round(performance.now())} ${client}: ${message}`
      if (notes.at(-1)?.endsWith(message) !== true) notes.push(line)
      if (notes.length > 200) notes.shift()
    }
    /** Runs a failover test; when it fails, what the clients reported goes to its diagnostics. */
    async function reporting<T>(t: TestContext, work: () => Promise<T>): Promise<T> {
      notes.length = 0
      try {
        const result = await work()
        const ended = notes.filter((line) => line.endsWith('the client ended')).length
        if (ended > 0) t.diagnostic(`the ioredis client ended ${ended} times and was started again`)
        return result
      } catch (err) {
        for (const line of notes.slice(-60)) t.diagnostic(line)
        throw err
      }
    }

    before(async () => {
      const io = await docsStore('ioredis', `${run}:load:`, (message) => note('ioredis', message))
      const nr = await docsStore('node-redis', `${run}:load:`, (message) =>
        note('node-redis', message),
      )
      const started = await startLoadApps(secret, [
        { name: 'fail (ioredis)', client: 'ioredis', mode: 'fail', store: io },
        { name: 'anonymous (ioredis)', client: 'ioredis', mode: 'anonymous', store: io },
        { name: 'fail (node-redis)', client: 'node-redis', mode: 'fail', store: nr },
        { name: 'anonymous (node-redis)', client: 'node-redis', mode: 'anonymous', store: nr },
      ])
      closers.push(() => started.close())
      apps = started.apps
    })

    it('a primary killed under load: 503s at most, the store recovers by itself, and only the last unreplicated writes can be lost', async (t) => {
      const primary = await sentinel.primaryPort()
      const result = await reporting(t, () =>
        failoverUnderLoad(apps, `kill-${run}`, {
          mayLose: true,
          replicated: () => sentinel.replicated(primary),
          trigger: () => sentinel.server(primary).kill(),
          switched: async () => {
            await sentinel.waitNewPrimary(primary)
          },
        }),
      )
      for (const line of result.lines) t.diagnostic(line)
    })
  })
})
