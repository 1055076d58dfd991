/**
 * RedisStore on a real Redis Cluster: three primaries with a replica each, started for this file
 * on free ports (see `redis-topologies.ts`) and killed at the end. The clients are made as the
 * docs make them (`examples/snippets/redis-cluster.ts`). On it: the store conformance kit with
 * ioredis `Cluster` and node-redis `createCluster`; the multi-instance scenarios on three
 * instances of the basic example, each with its own client; reads answered by primaries even
 * by a client that reads from replicas; every key of a user in one slot, and the per-user
 * operations sending commands to that slot only; then a coordinated failover (`CLUSTER
 * FAILOVER`) and a primary killed, both under load (`failover-load.ts`).
 *
 * Without redis-server or redis-cli the file is skipped with a printed reason, except on CI
 * (`CI=true`), where that is a failure.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { after, before, describe, it, type TestContext } from 'node:test'
import { Cluster } from 'ioredis'
import { LoginManager } from 'login-manager'
import { RedisStore } from 'login-manager/redis'
import {
  createIoredisClusterStore,
  createNodeRedisClusterStore,
} from '../../examples/snippets/redis-cluster.ts'
import { runStoreConformance } from '../../src/stores/conformance.ts'
import { type FailoverReport, failoverUnderLoad, startLoadApps } from './failover-load.ts'
import {
  Browser,
  type InstanceSet,
  instanceScenarios,
  startInstances,
} from './instance-scenarios.ts'
import {
  command,
  noscriptAnswers,
  probeTopologyTools,
  RedisCluster,
  until,
} from './redis-topologies.ts'
import { ON_CI, sessionParts, sleep } from './support.ts'

const missing = probeTopologyTools()
if (missing !== null && !ON_CI) console.log(`# skipping the Redis Cluster tests: ${missing}`)
// The kit checks what is stored, not how fast: its bursts of 1,000 operations must not time out
// on a busy machine.
const CONFORMANCE_TIMEOUT = 10_000
const run = `lmcl-${randomUUID().slice(0, 8)}`

describe('RedisStore on a real Redis Cluster (3 primaries, 3 replicas)', {
  skip: missing !== null && !ON_CI ? missing : false,
}, () => {
  if (missing !== null) {
    it('needs redis-server and redis-cli on CI', () => {
      assert.fail(`${missing}. Install Redis (redis-server, redis-cli); on CI this must run.`)
    })
    return
  }

  let cluster: RedisCluster
  const closers: (() => Promise<unknown> | unknown)[] = []

  before(async () => {
    cluster = await RedisCluster.start()
  })
  after(async () => {
    // A client that cannot say goodbye to a dead node is not waited for long.
    for (const close of closers.splice(0).reverse()) {
      await Promise.race([Promise.resolve(close()).catch(() => {}), sleep(2_000)])
    }
    if (cluster !== undefined) {
      try {
        await cluster.deleteByPrefix(`${run}:`)
      } finally {
        await cluster.stop()
      }
    }
  })

  /** An ioredis Cluster of the test's own (for a spying wrapper, or reads from replicas). */
  async function ioredisCluster(options: { scaleReads?: 'slave' } = {}): Promise<Cluster> {
    const client = new Cluster(cluster.seeds, {
      enableOfflineQueue: false,
      redisOptions: { connectTimeout: 1_000, maxRetriesPerRequest: 1 },
      ...options,
    })
    client.on('error', () => {})
    closers.push(() => client.disconnect())
    if (client.status !== 'ready') await once(client, 'ready')
    return client
  }

  /** A store made as the docs make it (`examples/snippets/redis-cluster.ts`), under `prefix`. */
  async function docsStore(
    client: 'ioredis' | 'node-redis',
    prefix: string,
    log: (message: string) => void = () => {},
    commandTimeout?: number,
  ): Promise<RedisStore> {
    const env = {
      REDIS_CLUSTER_NODES: cluster.seeds.map(({ host, port }) => `${host}:${port}`).join(','),
      REDIS_PREFIX: prefix,
    }
    // Closed for good at the end, whatever state a failover left the client in.
    if (client === 'ioredis') {
      const made = await createIoredisClusterStore(env, log)
      made.client.on('end', () => log('the client ended'))
      closers.push(() => made.client.disconnect())
      return commandTimeout === undefined
        ? made.store
        : new RedisStore({ client: made.client, prefix, commandTimeout })
    }
    const made = await createNodeRedisClusterStore(env, log)
    closers.push(() => made.client.destroy())
    return commandTimeout === undefined
      ? made.store
      : new RedisStore({ client: made.client, prefix, commandTimeout })
  }

  runStoreConformance('RedisStore on Redis Cluster (ioredis Cluster)', () =>
    docsStore('ioredis', `${run}:io:`, undefined, CONFORMANCE_TIMEOUT),
  )
  runStoreConformance('RedisStore on Redis Cluster (node-redis createCluster)', () =>
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
          storedKeys: async () => [...(await cluster.keysByPrimary(prefix)).values()].flat(),
        }
      })
      instanceScenarios(() => set)
    })
  }

  it("reads go to the primary even when the client reads from replicas (scaleReads: 'slave'): a stopped replica holds none", async () => {
    const client = await ioredisCluster({ scaleReads: 'slave' })
    const prefix = `${run}:replicas:`
    const store = new RedisStore({ client, prefix, commandTimeout: 1_000 })
    const key = 'lm:{replica-reads}:s:1'
    const index = 'lm:{replica-reads}:idx'
    const primary = await cluster.primaryOf(await cluster.keySlot(prefix + key))
    const replicas = (await cluster.nodes()).filter((node) => node.primaryId === primary.id)
    assert.ok(replicas.length > 0)
    for (const replica of replicas) cluster.server(replica.port).pause()
    try {
      // The control: the client sends a plain read to the stopped replica, which answers nothing.
      const plain = await Promise.race([
        client.smembers(prefix + index).then(() => 'answered'),
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
      for (const replica of replicas) cluster.server(replica.port).resume()
    }
  })

  it('every key of a user lies in one slot, and listSessions and logoutEverywhere touch only that slot', async () => {
    const prefix = `${run}:slot:`
    const secret = randomBytes(32).toString('base64url')
    const io = await ioredisCluster()
    // Records the keys of every command the store sends.
    const sent: string[][] = []
    const recording = {
      isCluster: true,
      call(name: string, ...args: string[]) {
        const script = name === 'EVALSHA' || name === 'EVAL'
        sent.push(script ? args.slice(2, 2 + Number(args[1])) : args.slice(0, 1))
        return io.call(name, ...args)
      },
    }
    const store = new RedisStore({ client: recording, prefix })
    const { createApp } = await import('../../examples/basic/express.ts')
    const server = createApp(secret, store).listen(0, '127.0.0.1')
    await once(server, 'listening')
    closers.push(() => new Promise((resolve) => server.close(resolve)))
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`

    // Three devices; the first visits a protected page first, so that its login moves an
    // anonymous session (a random tag, another slot) into the user's slot.
    const anonymousKeys: string[] = []
    for (let device = 0; device < 3; device++) {
      const browser = new Browser()
      if (device === 0) {
        const visit = await browser.request(base, 'GET', '/protected')
        assert.equal(visit.status, 302)
        const cookie = browser.jar.get('__Host-session')?.value
        assert.ok(cookie !== undefined, 'the redirect to the login page made an anonymous session')
        anonymousKeys.push(cookie)
      }
      await browser.login(base)
    }
    const byPrimary = await cluster.keysByPrimary(prefix)
    const all = [...byPrimary.values()].flat()
    assert.ok(all.length >= 7, `three sessions, three tokens and the index: ${all.join(', ')}`)
    const anonymousTag = sessionParts(anonymousKeys[0] as string).tag
    assert.ok(
      all.every((key) => !key.includes(`{${anonymousTag}}`)),
      'the anonymous session was replaced by the login, in its own slot',
    )
    const slots = new Set(await cluster.keySlots(all))
    assert.equal(slots.size, 1, `one slot for every key of the user: ${[...slots].join(', ')}`)
    const holders = [...byPrimary].filter(([, keys]) => keys.length > 0)
    assert.equal(holders.length, 1, 'and so one primary holds them all')

    const manager = new LoginManager<{ id: string }>({
      secret,
      userLoader: (id) => ({ id }),
      session: { store },
    })
    for (const [operation, call] of [
      ['listSessions', () => manager.listSessions('leafstorm')],
      ['logoutEverywhere', () => manager.logoutEverywhere('leafstorm')],
    ] as const) {
      sent.length = 0
      const result = await call()
      assert.ok(
        Array.isArray(result) ? result.length === 3 : result === 6,
        `${operation}: ${JSON.stringify(result)}`,
      )
      const keys = sent.flat().map((key) => key)
      assert.ok(keys.length > 0)
      assert.deepEqual(
        new Set(await cluster.keySlots(keys)),
        slots,
        `${operation} sent commands only to the user's slot`,
      )
    }
    assert.deepEqual([...(await cluster.keysByPrimary(prefix)).values()].flat(), [])
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

    /** The primary the users of the load land on most, and one of its replicas. */
    async function victim(): Promise<{ primary: number; replica: number }> {
      const nodes = await cluster.nodes()
      const primary = nodes.find((n) => n.primary && !n.failed && n.slots.length > 0)
      assert.ok(primary !== undefined)
      const replica = nodes.find((n) => n.primaryId === primary.id && !n.failed)
      assert.ok(replica !== undefined, 'the primary has a replica')
      return { primary: primary.port, replica: replica.port }
    }

    function report(t: { diagnostic(message: string): void }, result: FailoverReport): void {
      for (const line of result.lines) t.diagnostic(line)
    }

    it('a manual failover (CLUSTER FAILOVER): 503s at most, nothing lost, and the demoted primary redirects', async (t) => {
      const { primary, replica } = await victim()
      await command(replica, 'CONFIG', 'RESETSTAT')
      const result = await reporting(t, () =>
        failoverUnderLoad(apps, `manual-${run}`, {
          mayLose: false,
          replicated: () => cluster.replicated(primary),
          trigger: async () => {
            await command(replica, 'CLUSTER', 'FAILOVER')
          },
          switched: () =>
            until('the replica is promoted', async () => {
              const nodes = await cluster.nodes()
              const promoted = nodes.find((n) => n.port === replica)
              return promoted?.primary === true && promoted.slots.length > 0
            }).then(() => cluster.waitHealthy()),
        }),
      )
      report(t, result)
      // The replica never ran the scripts (replicas get their effects): each was sent in full once.
      assert.ok((await noscriptAnswers(replica)) > 0, 'NOSCRIPT on the new primary, then EVAL')
    })

    it('a primary killed under load: 503s at most, the store recovers by itself, and only the last unreplicated writes can be lost', async (t) => {
      const { primary } = await victim()
      const result = await reporting(t, () =>
        failoverUnderLoad(apps, `kill-${run}`, {
          mayLose: true,
          replicated: () => cluster.replicated(primary),
          trigger: () => cluster.server(primary).kill(),
          switched: () => cluster.waitHealthy(),
        }),
      )
      report(t, result)
    })
  })
})
