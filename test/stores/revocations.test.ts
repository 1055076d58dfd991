/**
 * The revocation list of cookie sessions on Redis (`RedisRevocationStore`, issue 10 §2):
 *
 * - the store itself, over ioredis and node-redis on the shared Redis (keys under a prefix
 *   unique to the run and to each test, deleted afterwards): write-through, full and incremental
 *   loads, the cap, the data-loss epoch, push messages between connections, bad input;
 * - three instances (three managers, each with its own command and subscriber connections,
 *   served by Express, Hono and Fastify) on one Redis: a logout through one is honoured by the
 *   other two within one second, with the periodic resync turned off so the push messages alone
 *   must do it; a copied remember-me cookie too;
 * - a restart: an instance started after the logout loads the list and refuses the copy;
 * - Redis down and back (a private `redis-server` the test kills and starts again, empty): the
 *   instance that logged out refuses at once, reports `storeError`, and once Redis is back its
 *   write lands, the other instance learns it, and what Redis lost is written back.
 *
 * Without Redis (or the redis-server binary) the parts that need it are skipped with a printed
 * reason, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { LoginManager, LoginManagerError, type RevocationEntry, type UserId } from 'login-manager'
import {
  type RedisClientLike,
  RedisRevocationStore,
  type RedisSubscriberLike,
  StoreUnavailableError,
} from 'login-manager/redis'
import { createClient } from 'redis'
import { allAdapters } from '../conformance/adapters/index.ts'
import type { AdapterHarness, AppSpec, RunningApp } from '../conformance/harness.ts'
import { TestClient } from '../support/client.ts'
import { listen, notch, USERS, type User } from '../support/users.ts'
import {
  deleteByPrefix,
  eventually,
  freePort,
  ON_CI,
  PrivateRedis,
  probeRedis,
  probeRedisServer,
  REDIS_URL,
  rawClient,
  sleep,
} from './support.ts'

const SECRET = 'revocation-redis-suite-secret-Hx7Mq2Zt9Lc4Wv6Pn'
const RUN = `lmrev-${randomUUID().slice(0, 8)}:`
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'

const redisUnreachable = await probeRedis()
const serverMissing = probeRedisServer()
const skipShared = redisUnreachable !== null && !ON_CI ? redisUnreachable : false
const skipPrivate = serverMissing !== null && !ON_CI ? serverMissing : false
if (redisUnreachable !== null && !ON_CI) console.log(`# skipping: ${redisUnreachable}`)
if (serverMissing !== null && !ON_CI) console.log(`# skipping: ${serverMissing}`)

let prefixes = 0
const nextPrefix = () => `${RUN}${++prefixes}:`

type Kind = 'ioredis' | 'node-redis'

interface Connections {
  readonly client: RedisClientLike
  readonly subscriber: RedisSubscriberLike
  close(): Promise<void>
}

const opened = new Set<Connections>()
after(async () => {
  await Promise.all([...opened].map((c) => c.close()))
  if (redisUnreachable === null) {
    const raw = rawClient()
    await deleteByPrefix(raw, RUN)
    raw.disconnect()
  }
})

/** A command connection and a dedicated subscriber connection of one client library. */
async function connect(kind: Kind, url = REDIS_URL, errors: string[] = []): Promise<Connections> {
  const onError = (err: Error) => errors.push(err.message)
  let connections: Connections
  if (kind === 'ioredis') {
    // Fail fast while Redis is away (no offline queue), and reconnect quickly.
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 }
    const client = new Redis(url, options)
    const subscriber = new Redis(url, { ...options, enableOfflineQueue: true })
    client.on('error', onError)
    subscriber.on('error', onError)
    await Promise.all([client, subscriber].map((c) => new Promise((r) => c.once('ready', r))))
    connections = {
      client,
      subscriber,
      async close() {
        client.disconnect()
        subscriber.disconnect()
      },
    }
  } else {
    const client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 50 },
    })
    client.on('error', onError)
    await client.connect()
    const subscriber = client.duplicate()
    subscriber.on('error', onError)
    await subscriber.connect()
    connections = {
      client,
      subscriber,
      async close() {
        for (const c of [client, subscriber]) if (c.isOpen) c.destroy()
      },
    }
  }
  opened.add(connections)
  const close = connections.close
  return {
    ...connections,
    async close() {
      opened.delete(connections)
      await close()
    },
  }
}

const now = () => Math.floor(Date.now() / 1000)
/** A well-formed id made of one character (and the padding a 16-byte id ends with). */
const id = (c: string) => `${c.repeat(21)}A`

describe('RedisRevocationStore options', () => {
  const fake = { call: async () => null, subscribe: async () => null, on: () => {} }
  const other = { subscribe: async () => null, on: () => {}, removeListener: () => {} }
  const invalid = (error: unknown) =>
    error instanceof LoginManagerError && error.code === 'ERR_INVALID_OPTION'

  it('are checked at construction, with what to fix', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /expected options/],
      [{ client: {}, subscriber: other }, /ioredis client .* or a node-redis client/],
      [{ client: fake }, /dedicated connection for pub\/sub/],
      [{ client: fake, subscriber: fake }, /not the command client/],
      [{ client: fake, subscriber: other, prefix: 'a{b' }, /without '\{' or '\}'/],
      [{ client: fake, subscriber: other, commandTimeout: 0 }, /commandTimeout/],
      [{ client: fake, subscriber: other, maxEntries: 0 }, /maxEntries/],
    ]
    for (const [options, message] of cases) {
      assert.throws(
        () => new RedisRevocationStore(options as never),
        (error: unknown) => invalid(error) && message.test((error as Error).message),
        JSON.stringify(options),
      )
    }
  })
})

for (const kind of ['ioredis', 'node-redis'] as const) {
  describe(`RedisRevocationStore over ${kind}`, { skip: skipShared }, () => {
    it('writes through, loads everything, then only what was added since a cursor', async () => {
      const conn = await connect(kind)
      const store = new RedisRevocationStore({ ...conn, prefix: nextPrefix() })
      await store.add([
        { id: id('a'), expiresAt: now() + 600 },
        { id: id('b'), expiresAt: now() - 5 }, // expired: not kept
        { id: 'not-an-id', expiresAt: now() + 600 }, // malformed: not sent
      ])
      await sleep(2_100) // a cursor reads back a little (clock steps): be past that margin
      const all = await store.load()
      assert.equal(all.entries.length, 1)
      assert.equal(all.entries[0]?.id, id('a'))
      assert.equal(all.reset, false)
      await store.add([{ id: id('c'), expiresAt: now() + 900 }])
      const since = await store.load(all.cursor)
      assert.deepEqual(
        since.entries.map((e) => e.id),
        [id('c')],
      )
      assert.equal(since.reset, undefined)
      await conn.close()
    })

    it('keeps the longest expiry of an id, and drops the soonest-expiring past maxEntries', async () => {
      const conn = await connect(kind)
      const store = new RedisRevocationStore({ ...conn, prefix: nextPrefix(), maxEntries: 2 })
      await store.add([{ id: id('a'), expiresAt: now() + 900 }])
      await store.add([{ id: id('a'), expiresAt: now() + 60 }])
      await store.add([
        { id: id('b'), expiresAt: now() + 30 },
        { id: id('c'), expiresAt: now() + 600 },
      ])
      const all = (await store.load()).entries
      assert.deepEqual(all.map((e) => e.id).sort(), [id('a'), id('c')])
      assert.ok(
        (all.find((e) => e.id === id('a'))?.expiresAt ?? 0) >= now() + 890,
        'the longer expiry was kept',
      )
      await conn.close()
    })

    it('tells the lists when Redis lost its data (a new epoch), so they write theirs back', async () => {
      const conn = await connect(kind)
      const prefix = nextPrefix()
      const store = new RedisRevocationStore({ ...conn, prefix })
      await store.add([{ id: id('a'), expiresAt: now() + 600 }])
      const first = await store.load()
      const raw = rawClient()
      await raw.del(`${prefix}lm:{revocations}:ids`, `${prefix}lm:{revocations}:epoch`)
      raw.disconnect()
      const after = await store.load(first.cursor)
      assert.equal(after.reset, true)
      assert.deepEqual(after.entries, [])
      const again = await store.load(after.cursor)
      assert.equal(again.reset, undefined, 'the new epoch holds')
      assert.equal(
        (await store.load(`${first.cursor.split(':')[0]}:${Date.now() - 7_200_000}`)).reset,
        true,
      )
      await conn.close()
    })

    it('pushes each revocation to the other connections, and ignores malformed messages', async () => {
      const prefix = nextPrefix()
      const one = await connect(kind)
      const two = await connect(kind === 'ioredis' ? 'node-redis' : 'ioredis')
      const writer = new RedisRevocationStore({ ...one, prefix })
      const reader = new RedisRevocationStore({ ...two, prefix })
      const heard: RevocationEntry[] = []
      let gaps = 0
      const stop = reader.subscribe({
        entries: (entries) => heard.push(...entries),
        gap: () => gaps++,
        error: (error) => assert.fail(String(error)),
      })
      assert.ok(await eventually(async () => gaps > 0, 5_000), 'subscribed (first gap)')
      const raw = rawClient()
      await raw.publish(`${prefix}lm:revocations`, 'garbage,:1,x:y,ab:12')
      const expiresAt = now() + 600
      await writer.add([{ id: id('d'), expiresAt }])
      assert.ok(await eventually(async () => heard.length > 0, 2_000))
      assert.deepEqual(heard, [{ id: id('d'), expiresAt }])
      await stop()
      await writer.add([{ id: id('e'), expiresAt: now() + 600 }])
      await sleep(200)
      assert.equal(heard.length, 1, 'nothing after unsubscribing')
      raw.disconnect()
      await Promise.all([one.close(), two.close()])
    })

    it('fails with StoreUnavailableError, writing nothing, when a key holds another type', async () => {
      const conn = await connect(kind)
      const prefix = nextPrefix()
      const raw = rawClient()
      await raw.set(`${prefix}lm:{revocations}:log`, 'oops')
      const store = new RedisRevocationStore({ ...conn, prefix })
      await assert.rejects(
        store.add([{ id: id('f'), expiresAt: now() + 600 }]),
        (error: unknown) =>
          error instanceof StoreUnavailableError && /WRONGTYPE/.test(String(error)),
      )
      assert.equal(await raw.exists(`${prefix}lm:{revocations}:ids`), 0)
      raw.disconnect()
      await conn.close()
    })
  })
}

// ------------------------------------------------------------------------------------ instances

function spec(store: RedisRevocationStore, resyncInterval = 3600): AppSpec<User> {
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: (userId) => USERS.get(Number(userId)) ?? null,
    revocation: { store, resyncInterval },
  })
  return {
    manager,
    routes: [
      {
        path: '/login-notch-remember',
        handler: async ({ auth }) => String(await auth.loginUser(notch, { remember: true })),
      },
      {
        path: '/username',
        handler: async ({ auth }) => (await auth.getUser())?.name ?? 'Anonymous',
      },
      { path: '/logout', handler: async ({ auth }) => String(await auth.logoutUser()) },
    ],
  }
}

interface Instance {
  readonly app: AppSpec<User>
  readonly running: RunningApp
  readonly conn: Connections
}

async function startInstance(
  harness: AdapterHarness,
  kind: Kind,
  prefix: string,
  options: { url?: string; resyncInterval?: number; errors?: string[] } = {},
): Promise<Instance> {
  const conn = await connect(kind, options.url, options.errors)
  const app = spec(new RedisRevocationStore({ ...conn, prefix }), options.resyncInterval)
  await app.manager.ready()
  return { app, running: await harness.start(app), conn }
}

async function stopInstance(instance: Instance): Promise<void> {
  await instance.running.close()
  await instance.app.manager.close()
  await instance.conn.close()
}

/** A browser on `instance` holding `cookies` (copied from another browser). */
function holding(instance: Instance, cookies: Record<string, string>): TestClient {
  const client = new TestClient(instance.running.baseUrl)
  for (const [name, value] of Object.entries(cookies)) client.jar.set(name, value)
  return client
}

async function username(client: TestClient): Promise<string> {
  const res = await client.get('/username')
  assert.equal(res.status, 200, res.body)
  return res.body
}

const harness = (name: string) => {
  const found = allAdapters.find((a) => a.name === name)
  assert.ok(found !== undefined, name)
  return found
}

describe('three instances on one Redis', { skip: skipShared }, () => {
  it('a logout through one is honoured by the other two within one second (push only)', async () => {
    const prefix = nextPrefix()
    const instances = [
      await startInstance(harness('express'), 'ioredis', prefix),
      await startInstance(harness('hono'), 'node-redis', prefix),
      await startInstance(harness('fastify'), 'ioredis', prefix),
    ]
    const [a, b, c] = instances as [Instance, Instance, Instance]
    try {
      const browser = new TestClient(a.running.baseUrl)
      assert.equal((await browser.get('/login-notch-remember')).body, 'true')
      const session = { [SESSION]: browser.jar.get(SESSION)?.value ?? '' }
      const remember = { [REMEMBER]: browser.jar.get(REMEMBER)?.value ?? '' }
      for (const instance of [b, c]) {
        assert.equal(await username(holding(instance, session)), 'Notch')
        assert.equal(await username(holding(instance, remember)), 'Notch')
      }

      await browser.get('/logout')
      const loggedOutAt = Date.now()
      let honoured = false
      while (!honoured && Date.now() - loggedOutAt < 1_000) {
        const answers = await Promise.all(
          [b, c].flatMap((i) => [username(holding(i, session)), username(holding(i, remember))]),
        )
        honoured = answers.every((answer) => answer === 'Anonymous')
        if (!honoured) await sleep(20)
      }
      assert.ok(honoured, 'both other instances refuse the session and remember copies within 1 s')
      assert.equal(await username(holding(a, session)), 'Anonymous')

      // A restart: a fourth instance, started after the logout, loads the list before serving.
      const late = await startInstance(harness('express'), 'node-redis', prefix)
      try {
        const rejected = listen(late.app.manager, 'cookieRejected')
        assert.equal(await username(holding(late, session)), 'Anonymous')
        assert.equal(await username(holding(late, remember)), 'Anonymous')
        assert.deepEqual(
          rejected.calls.map((call) => `${call.cookie}:${call.reason}`),
          ['session:ended', 'remember:ended'],
        )
      } finally {
        await stopInstance(late)
      }
    } finally {
      await Promise.all(instances.map(stopInstance))
    }
  })
})

describe('Redis down and back', { skip: skipPrivate }, () => {
  it('revokes locally while Redis is down, and every instance has it once Redis is back', async () => {
    const redis = new PrivateRedis(await freePort())
    await redis.start()
    const prefix = nextPrefix()
    const errors: string[] = []
    const options = { url: redis.url, resyncInterval: 0.5, errors }
    const a = await startInstance(harness('express'), 'ioredis', prefix, options)
    const b = await startInstance(harness('koa'), 'node-redis', prefix, options)
    const storeErrors: string[] = []
    a.app.manager.on('storeError', ({ operation }) => storeErrors.push(operation))
    b.app.manager.on('storeError', () => {})
    const instances = [a, b]
    try {
      // One logout before the outage (Redis will lose it), one during.
      const before = new TestClient(a.running.baseUrl)
      await before.get('/login-notch-remember')
      const beforeCopy = { [SESSION]: before.jar.get(SESSION)?.value ?? '' }
      await before.get('/logout')
      assert.ok(
        await eventually(
          async () => (await username(holding(b, beforeCopy))) === 'Anonymous',
          2_000,
        ),
      )

      const during = new TestClient(a.running.baseUrl)
      await during.get('/login-notch-remember')
      const duringCopy = { [SESSION]: during.jar.get(SESSION)?.value ?? '' }
      assert.equal(await username(holding(b, duringCopy)), 'Notch')

      await redis.kill()
      const res = await during.get('/logout')
      assert.equal(res.status, 200, 'a logout while Redis is down still works')
      assert.equal(await username(holding(a, duringCopy)), 'Anonymous', 'refused here at once')
      assert.ok(
        await eventually(async () => storeErrors.includes('revocation.add'), 5_000),
        `storeError reported (${storeErrors.join()})`,
      )
      assert.equal(
        a.app.manager._revocations?.unsent,
        2,
        'the session and its token, kept for later',
      )

      await redis.start() // empty: it had no persistence
      assert.ok(
        await eventually(
          async () => (await username(holding(b, duringCopy))) === 'Anonymous',
          15_000,
        ),
        'the other instance learns the revocation once Redis is back',
      )
      assert.equal(a.app.manager._revocations?.unsent, 0)

      // A new instance after the recovery knows both: what was revoked during the outage, and
      // what Redis lost, written back by the instances that held it.
      const late = await startInstance(harness('hono'), 'ioredis', prefix, options)
      instances.push(late)
      assert.ok(
        await eventually(
          async () =>
            (await username(holding(late, beforeCopy))) === 'Anonymous' &&
            (await username(holding(late, duringCopy))) === 'Anonymous',
          10_000,
        ),
        'the list was written back to the emptied Redis',
      )
    } finally {
      await Promise.all(instances.map(stopInstance))
      await redis.kill()
    }
  })
})
