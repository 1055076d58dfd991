/**
 * PostgresStore when things fail, against the real PostgreSQL (`DATABASE_URL`) through a TCP
 * proxy started by the test (`TcpProxy`: it refuses, stalls and cuts connections; the machine's
 * shared server is never stopped):
 *
 * - the database down at start: `checkSchema()` rejects with "cannot reach PostgreSQL", every
 *   operation rejects with `StoreUnavailableError` at once, requests answer what `onStoreError`
 *   documents (503, or anonymous);
 * - down mid-traffic: the same, nothing written during the outage is claimed as saved (the write
 *   rejects, and the record is not there afterwards), and recovery is automatic;
 * - slow: the client-side `commandTimeout` (a stalled connection), and the server-side
 *   `statement_timeout` (a statement waiting on a row lock) both reject with reason `timeout`;
 * - a lost connection in the pool: the pool's `error` event on idle clients goes to `onError` (or
 *   one warning), the process survives, the next operation reconnects;
 * - a real deadlock (provoked with a second connection) is retried and the operation succeeds;
 *   serialization failures injected through a wrapped pool are retried 3 times at most, then
 *   reject;
 * - a background sweep that fails goes to `onError`, never to an unhandled rejection.
 *
 * Without PostgreSQL the file is skipped with a printed reason, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { LoginManager, type LoginManagerEvents, type UserId } from 'login-manager'
import { PostgresStore, StoreUnavailableError } from 'login-manager/postgres'
import pg from 'pg'
import { adapters } from '../conformance/adapters/index.ts'
import type { RouteDef } from '../conformance/harness.ts'
import { type ClientResponse, TestClient } from '../support/client.ts'
import { type EventSpy, listen, notch, USERS, type User } from '../support/users.ts'
import {
  CountingPool,
  DATABASE_URL,
  dropSchema,
  probePostgres,
  schemaName,
  TcpProxy,
  testPool,
} from './postgres-support.ts'
import { eventually, ON_CI, sleep } from './support.ts'

const SECRET = 'postgres-faults-suite-secret-Tq8Wn3Zk6Pv1Rb4Xm9'
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'
const SCHEMA = schemaName('faults')
const unreachable = await probePostgres()

const key = (label = 's') => `lm:{fault-${randomUUID().slice(0, 8)}}:${label}:${randomUUID()}`

/** A pool to the proxy with no `error` listener of the app's: only the store's stands guard. */
function proxiedPool(proxy: TcpProxy, config: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool({ connectionString: proxy.url(), connectionTimeoutMillis: 1_000, ...config })
}

function assertUnavailable(error: unknown, reason?: 'timeout' | 'error'): true {
  assert.ok(error instanceof StoreUnavailableError, `a StoreUnavailableError, got ${error}`)
  if (reason !== undefined) assert.equal(error.reason, reason, error.message)
  return true
}

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason)
}

if (unreachable !== null && !ON_CI) {
  console.log(`# skipping the PostgresStore fault tests: ${unreachable}`)
}

describe('PostgresStore faults (a TCP proxy in front of the real server)', {
  skip: unreachable !== null && !ON_CI ? unreachable : false,
}, () => {
  if (unreachable !== null) {
    it('needs a reachable PostgreSQL on CI', () => {
      assert.fail(`${unreachable}. Start PostgreSQL or set DATABASE_URL; on CI this must run.`)
    })
    return
  }
  const admin = testPool()
  const proxies: TcpProxy[] = []
  const pools: pg.Pool[] = []
  const stores: PostgresStore[] = []

  /** A proxy, a pool through it (no app listener) and a store on the run's schema. */
  async function setup(
    options: { commandTimeout?: number; onError?: (error: Error, source: string) => void } = {},
    config: pg.PoolConfig = {},
  ) {
    const proxy = new TcpProxy()
    await proxy.start()
    proxies.push(proxy)
    const pool = proxiedPool(proxy, config)
    pools.push(pool)
    const store = new PostgresStore({
      pool,
      schema: SCHEMA,
      commandTimeout: options.commandTimeout ?? 500,
      cleanupInterval: 0,
      onError: options.onError,
    })
    stores.push(store)
    return { proxy, pool, store }
  }

  before(async () => {
    process.on('unhandledRejection', onUnhandled)
    const store = new PostgresStore({ pool: admin, schema: SCHEMA, cleanupInterval: 0 })
    await store.createSchema()
    await store.close()
  })
  after(async () => {
    process.off('unhandledRejection', onUnhandled)
    for (const store of stores) await store.close()
    for (const pool of pools) await pool.end().catch(() => {})
    for (const proxy of proxies) await proxy.close()
    try {
      await dropSchema(admin, SCHEMA)
    } finally {
      await admin.end()
    }
    assert.deepEqual(unhandled, [], 'unhandled rejections while the database was away')
  })

  describe('the store', () => {
    it('down at start: checkSchema rejects with "cannot reach PostgreSQL", operations reject at once', async () => {
      const { proxy, store } = await setup()
      proxy.mode = 'refuse'
      await assert.rejects(store.checkSchema(), (error) => {
        assertUnavailable(error, 'error')
        assert.match(
          (error as Error).message,
          /PostgresStore\.checkSchema failed .*cannot reach PostgreSQL/,
        )
        return true
      })
      await assert.rejects(store.get(key()), (error) => assertUnavailable(error))
      await assert.rejects(
        store.write(key(), { mode: 'create', set: { u: '1' }, ttl: 60 }),
        (error) => assertUnavailable(error),
      )
      proxy.mode = 'pass'
      await store.checkSchema()
      assert.equal(await store.get(key()), null, 'the same store works once the server is back')
    })

    it('down mid-traffic: writes reject, nothing is claimed saved, recovery is automatic', async () => {
      const { proxy, store } = await setup()
      const alive = key()
      assert.equal(await store.write(alive, { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
      proxy.mode = 'refuse'
      proxy.drop()
      const lost = key()
      await assert.rejects(
        store.write(lost, { mode: 'create', set: { u: '2' }, ttl: 60 }),
        (error) => assertUnavailable(error),
      )
      await assert.rejects(
        store.write(alive, { mode: 'update', set: { x: 'outage' }, ttl: 60 }),
        (error) => assertUnavailable(error),
      )
      await assert.rejects(store.destroyIndex(key('idx')), (error) => assertUnavailable(error))
      proxy.mode = 'pass'
      assert.ok(
        await eventually(async () => (await store.get(alive)) !== null, 5_000),
        'the store reconnects by itself',
      )
      assert.equal(await store.get(lost), null, 'the write that rejected did not happen')
      assert.deepEqual({ ...(await store.get(alive)) }, { u: '1' })
    })

    it('cut under traffic: every operation settles, every write claimed saved is there afterwards', async () => {
      const { proxy, store } = await setup({ commandTimeout: 500 })
      const claimed: string[] = []
      const failures: unknown[] = []
      let running = true
      // Eight clients writing new records (and reading them back) without pause.
      const client = async () => {
        while (running) {
          const k = key()
          try {
            if (await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 })) claimed.push(k)
            await store.get(k)
          } catch (error) {
            failures.push(error)
          }
        }
      }
      const clients = Array.from({ length: 8 }, client)
      await sleep(150)
      proxy.mode = 'refuse'
      proxy.drop()
      await sleep(300)
      proxy.mode = 'pass'
      await sleep(300)
      running = false
      await Promise.all(clients)
      assert.ok(failures.length > 0, 'the cut was felt')
      for (const error of failures) assertUnavailable(error)
      assert.ok(claimed.length > 0)
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM "${SCHEMA}".login_sessions WHERE key = ANY ($1)`,
        [claimed],
      )
      assert.equal(rows[0].n, claimed.length, 'a write that returned true is stored')
    })

    it('slow (a stalled connection): rejects with reason timeout after commandTimeout, then recovers', async () => {
      const { proxy, store } = await setup({ commandTimeout: 300 })
      const k = key()
      assert.equal(await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
      proxy.mode = 'stall'
      try {
        await assert.rejects(store.get(k), (error) => assertUnavailable(error, 'timeout'))
        await assert.rejects(
          store.write(key(), { mode: 'create', set: { u: '1' }, ttl: 60 }),
          (error) => assertUnavailable(error, 'timeout'),
        )
      } finally {
        proxy.mode = 'pass'
      }
      // pg's query_timeout closed the stalled connections; new ones are made as needed.
      assert.ok(
        await eventually(async () => (await store.get(k))?.u === '1', 5_000),
        'the store answers again once the server does',
      )
    })

    it("slow (a statement waiting on a lock): the server's statement_timeout cancels it, reason timeout", async () => {
      const pool = testPool(DATABASE_URL, { statement_timeout: 200 })
      pools.push(pool)
      const store = new PostgresStore({
        pool,
        schema: SCHEMA,
        commandTimeout: 10_000,
        cleanupInterval: 0,
      })
      stores.push(store)
      const k = key()
      assert.equal(await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
      const locker = await admin.connect()
      try {
        await locker.query('BEGIN')
        await locker.query(`SELECT 1 FROM "${SCHEMA}".login_sessions WHERE key = $1 FOR UPDATE`, [
          k,
        ])
        await assert.rejects(
          store.write(k, { mode: 'update', set: { x: '1' }, ttl: 60 }),
          (error) => {
            assertUnavailable(error, 'timeout')
            assert.equal((error as { cause?: { code?: string } }).cause?.code, '57014')
            return true
          },
        )
      } finally {
        await locker.query('ROLLBACK')
        locker.release()
      }
      assert.deepEqual(
        { ...(await store.get(k)) },
        { u: '1' },
        'the cancelled update wrote nothing',
      )
      assert.equal(await store.write(k, { mode: 'update', set: { x: '1' }, ttl: 60 }), true)
    })

    it("a lost connection in the pool: the idle client's error goes to onError, the pool recovers", async () => {
      const errors: [string, string][] = []
      const { proxy, pool, store } = await setup({
        onError: (error, source) => errors.push([source, error.message]),
      })
      // Two idle connections in the pool.
      await Promise.all([store.get(key()), store.get(key())])
      assert.ok(pool.idleCount >= 1, 'idle connections in the pool')
      proxy.drop()
      assert.ok(await eventually(async () => errors.length > 0, 5_000), 'onError heard the pool')
      assert.equal(errors[0]?.[0], 'pool')
      assert.equal(await store.get(key()), null, 'the next operation reconnects')
    })

    it('a lost connection without onError: one console warning, no crash', async (t) => {
      const warned = t.mock.method(console, 'warn', () => {})
      try {
        const { proxy, store } = await setup()
        await Promise.all([store.get(key()), store.get(key()), store.get(key())])
        proxy.drop()
        await sleep(300)
        assert.equal(await store.get(key()), null)
      } finally {
        warned.mock.restore()
      }
      const lines = warned.mock.calls.map((call) => String(call.arguments[0]))
      assert.equal(lines.length, 1, JSON.stringify(lines))
      assert.match(lines[0] ?? '', /PostgresStore pool error/)
    })

    it('a real deadlock is retried: the operation succeeds on its second attempt', async () => {
      const counting = new CountingPool(admin)
      const store = new PostgresStore({ pool: counting, schema: SCHEMA, cleanupInterval: 0 })
      stores.push(store)
      const index = key('idx')
      // Two records of one index; destroyIndex locks them in key order.
      const [a, b] = [key(), key()].sort() as [string, string]
      for (const k of [a, b]) {
        await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60, index })
      }
      const other = await admin.connect()
      try {
        // The other transaction waits longer before it checks for a deadlock, so that the store's
        // statement is the one PostgreSQL picks as the victim.
        await other.query('BEGIN')
        await other.query("SET LOCAL deadlock_timeout = '10s'")
        await other.query(`SELECT 1 FROM "${SCHEMA}".login_sessions WHERE key = $1 FOR UPDATE`, [b])
        const destroying = store.destroyIndex(index)
        // destroyIndex has locked `a` and waits for `b`: wait until PostgreSQL shows it waiting.
        assert.ok(
          await eventually(async () => {
            // This run's destroyIndex (its statement names this run's schema), no other test's.
            const { rows } = await admin.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                  AND position('victims' in query) > 0 AND position($1 in query) > 0`,
              [SCHEMA],
            )
            return rows[0].n > 0
          }, 5_000),
          'destroyIndex waits for the locked row',
        )
        // Now this transaction asks for `a`: a cycle. The store's statement is aborted (40P01).
        const deleting = other.query(`DELETE FROM "${SCHEMA}".login_sessions WHERE key = $1`, [a])
        await deleting
        await other.query('COMMIT')
        assert.equal(await destroying, 1, 'the retry destroyed what was left: b')
      } finally {
        await other.query('ROLLBACK').catch(() => {})
        other.release()
      }
      assert.deepEqual(counting.failures, ['40P01'], 'one deadlock, then a successful retry')
      assert.equal(await store.get(b), null)
      assert.deepEqual(await store.members(index), [])
    })

    it('serialization failures (injected) are retried 3 times at most, then reject', async () => {
      const counting = new CountingPool(admin)
      const store = new PostgresStore({ pool: counting, schema: SCHEMA, cleanupInterval: 0 })
      stores.push(store)
      const k = key()
      counting.inject('40001', 2)
      assert.equal(await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
      assert.equal(counting.statements, 3, 'two failures, then the write')
      counting.reset()
      counting.inject('40P01')
      await assert.rejects(
        store.write(k, { mode: 'update', set: { x: '1' }, ttl: 60 }),
        (error) => {
          assertUnavailable(error, 'error')
          assert.match((error as Error).message, /still failing after 3 attempts/)
          return true
        },
      )
      assert.equal(counting.statements, 3, 'three attempts, no more')
      counting.reset()
      assert.deepEqual({ ...(await store.get(k)) }, { u: '1' }, 'the refused update wrote nothing')
    })

    it('a background sweep that fails goes to onError, and sweeps again once the server is back', async () => {
      const errors: string[] = []
      const proxy = new TcpProxy()
      await proxy.start()
      proxies.push(proxy)
      const pool = proxiedPool(proxy)
      pools.push(pool)
      const store = new PostgresStore({
        pool,
        schema: SCHEMA,
        commandTimeout: 500,
        cleanupInterval: 0.1,
        onError: (_error, source) => errors.push(source),
      })
      stores.push(store)
      const k = key()
      await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 1 })
      proxy.mode = 'refuse'
      proxy.drop()
      assert.ok(await eventually(async () => errors.includes('cleanup'), 5_000), 'onError heard')
      proxy.mode = 'pass'
      const count = () =>
        admin.query(`SELECT count(*)::int AS n FROM "${SCHEMA}".login_sessions WHERE key = $1`, [k])
      assert.ok(
        await eventually(async () => (await count()).rows[0].n === 0, 8_000),
        'the expired record was swept once the server was back',
      )
    })
  })

  // ---------------------------------------------------------------- over HTTP

  const routes: RouteDef<User>[] = [
    { path: '/', handler: () => 'Welcome!' },
    {
      path: '/login-notch-remember',
      handler: async ({ auth }) => String(await auth.loginUser(notch, { remember: true })),
    },
    {
      path: '/username',
      handler: async ({ auth }) => {
        const user = await auth.getUser()
        return user?.isAuthenticated ? user.name : 'Anonymous'
      },
    },
    { path: '/protected', guard: 'login', handler: () => 'protected' },
    {
      path: '/set',
      handler: ({ auth, query }) => {
        auth.session.set(query('k') ?? 'k', query('v') ?? 'v')
        return 'set'
      },
    },
    {
      path: '/get',
      handler: ({ auth, query }) => JSON.stringify(auth.session.get(query('k') ?? 'k') ?? null),
    },
  ]

  function assert503(res: ClientResponse, what: string): void {
    assert.equal(res.status, 503, `${what}: expected 503, got ${res.status} ${res.body}`)
    const set = res.setCookies.filter((c) => c.name === SESSION || c.name === REMEMBER)
    assert.deepEqual(
      set.map((c) => c.raw),
      [],
      `${what}: a 503 sets no session cookie`,
    )
  }

  const chosen = adapters.filter((a) => a.name === 'express' || a.name === 'fetch')

  it('down when the app starts: pages that need no session work, a login answers 503, then works once the database is up', async () => {
    const { proxy, store } = await setup({ commandTimeout: 300 })
    proxy.mode = 'refuse'
    const manager = new LoginManager<User, UserId>({
      secret: SECRET,
      userLoader: (id) => USERS.get(Number(id)) ?? null,
      session: { store },
    })
    const errors = listen(manager, 'storeError')
    const app = await (chosen[0] ?? adapters[0]!).start({ manager, routes })
    try {
      const visitor = new TestClient(app.baseUrl)
      assert.equal((await visitor.get('/')).body, 'Welcome!')
      assert503(await visitor.get('/login-notch-remember'), 'login while the database is down')
      assert.equal(visitor.jar.all().length, 0)
      assert.ok(errors.calls.every((call) => call.error instanceof StoreUnavailableError))
      proxy.mode = 'pass'
      assert.ok(
        await eventually(
          async () => (await visitor.get('/login-notch-remember')).body === 'true',
          5_000,
        ),
        'a login works once the database is up',
      )
      assert.equal((await visitor.get('/username')).body, 'Notch')
    } finally {
      await app.close()
    }
  })

  for (const adapter of chosen) {
    for (const mode of ['fail', 'anonymous'] as const) {
      describe(`${adapter.name}, onStoreError '${mode}'`, () => {
        let proxy: TcpProxy
        let manager: LoginManager<User, UserId>
        let storeErrors: EventSpy<LoginManagerEvents<User, UserId>['storeError']>
        let close: () => Promise<void>
        let base = ''
        const browser = (cookies: Record<string, string> = {}) => {
          const c = new TestClient(base)
          for (const [name, value] of Object.entries(cookies)) c.jar.set(name, value)
          return c
        }
        let user: TestClient
        let cookies: Record<string, string>

        before(async () => {
          const made = await setup({ commandTimeout: 300 })
          proxy = made.proxy
          manager = new LoginManager<User, UserId>({
            secret: SECRET,
            userLoader: (id) => USERS.get(Number(id)) ?? null,
            loginView: '/login',
            session: { store: made.store, onStoreError: mode },
          })
          storeErrors = listen(manager, 'storeError')
          const app = await adapter.start({ manager, routes })
          base = app.baseUrl
          close = () => app.close()
          user = browser()
          assert.equal((await user.get('/login-notch-remember')).body, 'true')
          cookies = {
            [SESSION]: user.jar.get(SESSION)?.value ?? '',
            [REMEMBER]: user.jar.get(REMEMBER)?.value ?? '',
          }
          assert.equal((await user.get('/username')).body, 'Notch')
        })
        after(async () => {
          proxy.mode = 'pass'
          await close?.()
        })

        it(`slow database: ${mode === 'fail' ? '503' : 'anonymous'} after the command timeout`, async () => {
          storeErrors.reset()
          proxy.mode = 'stall'
          try {
            const res = await user.get('/username')
            if (mode === 'fail') assert503(res, 'slow database')
            else assert.equal(res.body, 'Anonymous')
          } finally {
            proxy.mode = 'pass'
          }
          const error = storeErrors.calls.at(-1)?.error
          assert.ok(error instanceof StoreUnavailableError, 'storeError fired')
          assert.equal(error.reason, 'timeout')
          assert.ok(
            await eventually(async () => (await user.get('/username')).body === 'Notch', 5_000),
            'the session works again once the database answers',
          )
        })

        it(`database down: ${mode === 'fail' ? '503' : 'anonymous'}, a login and a write fail whole, nothing claimed saved`, async () => {
          storeErrors.reset()
          proxy.mode = 'refuse'
          proxy.drop()
          try {
            const res = await user.get('/username')
            const guarded = await user.get('/protected')
            if (mode === 'fail') {
              assert503(res, 'database down')
              assert503(guarded, 'database down, /protected')
            } else {
              assert.equal(res.body, 'Anonymous')
              assert.equal(guarded.status, 302)
            }
            assert.ok(storeErrors.calls[0]?.error instanceof StoreUnavailableError)
            assert.equal(storeErrors.calls[0]?.operation, 'load')
            // A visitor's write and a login: answered 503, no cookie, never half logged in.
            const fresh = browser()
            assert503(await fresh.get('/login-notch-remember'), 'login while down')
            assert503(await fresh.get('/set?k=outage&v=1'), 'a write while down')
            assert.equal(fresh.jar.all().length, 0)
            const remembered = browser({ [REMEMBER]: cookies[REMEMBER] as string })
            const restored = await remembered.get('/protected')
            if (mode === 'fail') assert503(restored, 'remember-me restore while down')
            else assert.equal(restored.status, 302)
            assert.equal(remembered.jar.get(REMEMBER)?.value, cookies[REMEMBER], 'cookie kept')
            assert.equal((await browser().get('/')).body, 'Welcome!', 'the process lives')
          } finally {
            proxy.mode = 'pass'
          }
          // Back: the session made before the outage works again, on the same store and pool;
          // nothing the outage's requests tried to write is there.
          assert.ok(
            await eventually(async () => (await user.get('/username')).body === 'Notch', 5_000),
            'the session works again once the database is back',
          )
          assert.equal((await user.get('/get?k=outage')).body, 'null')
          const again = browser()
          assert.equal((await again.get('/login-notch-remember')).body, 'true')
          assert.equal((await again.get('/protected')).body, 'protected')
        })
      })
    }
  }
})
