/**
 * MySqlStore when the database fails, against the real server (`MYSQL_URL`) through a TCP proxy
 * this file starts on a port of its own: the machine's server is never stopped or reconfigured.
 *
 * - down at start (the proxy refuses), down mid-traffic (it cuts every connection and refuses),
 *   slow (it stalls: bytes held back), a lost connection in the pool (cut, still accepting):
 *   every failure is a `StoreUnavailableError` within `commandTimeout`, the process lives
 *   (no unhandled `error` event, no unhandled rejection), nothing written during the outage is
 *   reported as saved, and the same store works again by itself;
 * - a statement stuck on a row lock is ended by the server (`max_statement_time` on MariaDB);
 * - a real deadlock (1213) between the store and another transaction, and a real lock wait
 *   timeout (1205, on connections whose `innodb_lock_wait_timeout` is 1 s): retried, then done;
 *   conflicts that never end (injected through a wrapped pool): 4 attempts, then the error;
 * - over HTTP on two adapters: what `onStoreError` documents while the database is down or slow
 *   (`'fail'`: 503; `'anonymous'`: anonymous), and logins again once it is back.
 *
 * Without the server the suites are skipped, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { LoginManager, type UserId } from 'login-manager'
import {
  type MySqlConnectionLike,
  type MySqlPoolLike,
  MySqlStore,
  StoreUnavailableError,
} from 'login-manager/mysql'
import type mysql from 'mysql2/promise'
import { adapters } from '../conformance/adapters/index.ts'
import type { AdapterHarness, RouteDef } from '../conformance/harness.ts'
import { type ClientResponse, TestClient } from '../support/client.ts'
import { notch, USERS, type User } from '../support/users.ts'
import {
  dropTables,
  MYSQL_URL,
  probeMysql,
  TcpProxy,
  tablesWithPrefix,
  testPool,
  uniquePrefix,
} from './mysql-support.ts'
import { eventually, sleep } from './support.ts'

const RUN = uniquePrefix('f')
const unreachable = await probeMysql()
const SECRET = 'mysql-faults-suite-secret-Zq4Wm8Xk2Pv6Tn9Rb3Lh7'

/** Rejects with a StoreUnavailableError of `reason`. */
async function unavailable(
  promise: Promise<unknown>,
  reason: 'timeout' | 'error',
  what: string,
): Promise<StoreUnavailableError> {
  let caught: unknown
  await assert.rejects(promise, (error: unknown) => {
    caught = error
    return true
  })
  assert.ok(caught instanceof StoreUnavailableError, `${what}: got ${String(caught)}`)
  assert.equal(caught.reason, reason, `${what}: ${caught.message}`)
  return caught
}

/**
 * A pool passing everything through to `pool`, noting the `errno` of each error the server
 * sends back to a statement: the tests see the store meet a real deadlock or lock wait timeout.
 */
function observed(pool: MySqlPoolLike): { pool: MySqlPoolLike; errors: number[] } {
  const errors: number[] = []
  return {
    errors,
    pool: {
      async getConnection(): Promise<MySqlConnectionLike> {
        const connection = await pool.getConnection()
        return {
          execute: (sql, values) =>
            connection.execute(sql, values).catch((error: { errno?: number }) => {
              if (typeof error.errno === 'number') errors.push(error.errno)
              throw error
            }),
          query: (sql) => connection.query(sql),
          release: () => connection.release(),
          destroy: () => connection.destroy(),
        }
      },
    },
  }
}

const crashes: unknown[] = []
const onCrash = (error: unknown) => {
  crashes.push(error)
}

if (unreachable !== null) {
  if (process.env.CI === 'true') {
    describe('MySqlStore faults', () => {
      it('needs a reachable MySQL or MariaDB on CI', () => {
        assert.fail(`${unreachable}. Start MariaDB or set MYSQL_URL; on CI these tests must run.`)
      })
    })
  } else {
    console.log(`# skipping the MySqlStore fault tests: ${unreachable}`)
  }
} else {
  const pool = testPool()
  let mariadb = false
  /** The tables every test of this file shares (keys are random per test). */
  let tables: { records: string; index: string }
  const prefix = `${RUN}`
  const proxies = new Set<TcpProxy>()
  const stores = new Set<MySqlStore>()

  const proxy = async (listening = true) => {
    const p = await TcpProxy.start(MYSQL_URL, listening)
    proxies.add(p)
    return p
  }
  const storeOn = (options: ConstructorParameters<typeof MySqlStore>[0]) => {
    const s = new MySqlStore({ prefix, cleanupInterval: 0, ...options })
    stores.add(s)
    return s
  }
  const key = (label: string) => `lm:{${label}}:s:${randomUUID()}`

  before(async () => {
    process.on('uncaughtException', onCrash)
    process.on('unhandledRejection', onCrash)
    const [rows] = await pool.query('SELECT VERSION() AS v')
    mariadb = /mariadb/i.test(String((rows as { v: string }[])[0]?.v))
    const setup = new MySqlStore({ pool, prefix, cleanupInterval: 0 })
    await setup.createSchema()
    tables = setup.tables
  })

  after(async () => {
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
    try {
      for (const s of stores) await s.close()
      for (const p of proxies) await p.close()
      await dropTables(pool, tables)
      assert.deepEqual(await tablesWithPrefix(pool, RUN), [])
      assert.deepEqual(crashes, [], 'uncaught exceptions or unhandled rejections during the faults')
    } finally {
      await pool.end()
    }
  })

  describe('MySqlStore faults: through a TCP proxy', () => {
    it('down at start: every operation fails at once with StoreUnavailableError, then works once the server is reachable', async () => {
      const p = await proxy(false)
      const store = storeOn({ uri: p.url(), commandTimeout: 2_000 })
      const k = key('down-at-start')
      const operations: [string, () => Promise<unknown>][] = [
        ['get', () => store.get(k)],
        ['write', () => store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 })],
        ['touch', () => store.touch(k, 60)],
        ['destroy', () => store.destroy(k)],
        ['members', () => store.members('lm:{down}:idx')],
        ['destroyIndex', () => store.destroyIndex('lm:{down}:idx')],
        ['checkSchema', () => store.checkSchema()],
        ['cleanup', () => store.cleanup()],
      ]
      for (const [name, run] of operations) {
        const error = await unavailable(run(), 'error', name)
        assert.match(
          error.message,
          new RegExp(
            `^ERR_STORE_UNAVAILABLE: MySqlStore\\.${name} failed \\(error\\): .*ECONNREFUSED`,
          ),
        )
      }
      await p.up()
      await store.checkSchema()
      assert.equal(await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
      assert.deepEqual({ ...(await store.get(k)) }, { u: '1' })
    })

    it('down mid-traffic: failures are StoreUnavailableError, nothing written in the outage is reported saved, recovery is automatic', async () => {
      const p = await proxy()
      const store = storeOn({ uri: p.url(), commandTimeout: 1_000 })
      const reported: string[] = []
      const failures: unknown[] = []
      let phase: 'before' | 'down' | 'after' = 'before'
      const successes = { before: 0, down: 0, after: 0 }
      const writer = async () => {
        while (phase !== 'after' || successes.after < 20) {
          const k = key('traffic')
          const at = phase
          try {
            if (
              await store.write(k, {
                mode: 'create',
                set: { u: '1' },
                ttl: 60,
                index: 'lm:{traffic}:idx',
              })
            ) {
              reported.push(k)
              successes[at]++
            }
          } catch (error) {
            failures.push(error)
            await sleep(20)
          }
        }
      }
      const writers = Promise.all([writer(), writer(), writer()])
      assert.ok(await eventually(async () => successes.before >= 20, 10_000))
      await p.down()
      phase = 'down'
      await sleep(500)
      await p.up()
      phase = 'after'
      await writers
      assert.ok(failures.length > 0, 'the outage was seen')
      for (const error of failures) {
        assert.ok(
          error instanceof StoreUnavailableError,
          `not a StoreUnavailableError: ${String(error)}`,
        )
      }
      // Every write reported as saved is there.
      const [rows] = await pool.query(
        `SELECT CAST(\`key\` AS CHAR) AS k FROM \`${tables.records}\` WHERE \`key\` LIKE 'lm:{traffic}:%'`,
      )
      const stored = new Set((rows as { k: string }[]).map((row) => row.k))
      const lost = reported.filter((k) => !stored.has(k))
      assert.deepEqual(lost, [], 'writes reported saved but not stored')
      assert.equal(successes.after >= 20, true)
      assert.equal((await store.members('lm:{traffic}:idx')).length, stored.size)
    })

    it('slow (stalled): StoreUnavailableError with reason timeout, then the pool works again', async () => {
      const p = await proxy()
      const store = storeOn({ uri: p.url(), commandTimeout: 400 })
      const k = key('slow')
      assert.equal(await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
      p.stall()
      try {
        await unavailable(store.get(k), 'timeout', 'get while stalled')
        await unavailable(
          store.write(key('slow'), { mode: 'create', set: { u: '1' }, ttl: 60 }),
          'timeout',
          'write while stalled',
        )
        await unavailable(store.touch(k, 60), 'timeout', 'touch while stalled')
      } finally {
        p.resume()
      }
      assert.ok(await eventually(async () => (await store.get(k)) !== null, 5_000), 'works again')
      assert.equal(await store.touch(k, 60), true)
    })

    it('lost connections in the pool: operations right after the cut succeed on new connections', async () => {
      const p = await proxy()
      const store = storeOn({ uri: p.url(), commandTimeout: 2_000 })
      const k = key('cut')
      await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60, index: 'lm:{cut}:idx' })
      for (let round = 0; round < 5; round++) {
        // Several pooled connections, then every one of them dies at once.
        await Promise.all([store.get(k), store.get(k), store.get(k), store.members('lm:{cut}:idx')])
        assert.ok(p.connections >= 1)
        p.cut()
        const results = await Promise.all([
          store.get(k),
          store.touch(k, 60, { t: String(round) }),
          store.write(k, { mode: 'update', set: { r: String(round) }, ttl: 60 }),
          store.members('lm:{cut}:idx'),
        ])
        assert.equal((results[0] as Record<string, string> | null)?.u, '1', `round ${round}`)
        assert.deepEqual(results.slice(1), [true, true, [k]], `round ${round}`)
      }
    })

    it("the app's own pool through the proxy, without error listeners: a cut crashes nothing", async () => {
      const p = await proxy()
      const appPool = testPool(p.url())
      try {
        const store = storeOn({ pool: appPool, commandTimeout: 2_000 })
        const k = key('apppool')
        await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 })
        await Promise.all([store.get(k), store.get(k), store.get(k)])
        p.cut()
        await sleep(50)
        assert.deepEqual({ ...(await store.get(k)) }, { u: '1' })
        await p.down()
        await unavailable(store.get(k), 'error', 'get while down')
        await p.up()
        assert.ok(await eventually(async () => (await store.get(k)) !== null, 5_000))
      } finally {
        await appPool.end()
      }
    })
  })

  describe('MySqlStore faults: locks', () => {
    /** A connection of the test's own, holding row locks in an open transaction. */
    async function holder(): Promise<mysql.PoolConnection> {
      const connection = await pool.getConnection()
      await connection.query('START TRANSACTION')
      return connection
    }

    /** Ids of the transactions waiting for a lock on the store's records table right now. */
    async function waiting(): Promise<string[]> {
      const [rows] = await pool.query(
        "SELECT trx_id AS id FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT' AND trx_query LIKE ?",
        [`%${tables.records}%`],
      )
      return (rows as { id: unknown }[]).map((row) => String(row.id))
    }

    it('a statement stuck on a row lock is ended by the server (max_statement_time), the connection kept', async (t) => {
      if (!mariadb) {
        t.skip('MySQL bounds only reads on the server; the client deadline covers writes')
        return
      }
      const store = storeOn({ pool, commandTimeout: 500 })
      const k = key('stuck')
      await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 })
      const lock = await holder()
      try {
        await lock.execute(`SELECT 1 FROM \`${tables.records}\` WHERE \`key\` = ? FOR UPDATE`, [k])
        const error = await unavailable(store.touch(k, 60), 'timeout', 'touch on a locked row')
        assert.equal((error.cause as { errno?: number }).errno, 1969, error.message)
        assert.match(error.message, /max_statement_time/)
      } finally {
        await lock.query('ROLLBACK')
        lock.release()
      }
      assert.equal(await store.touch(k, 60), true)
    })

    it('a real deadlock with another transaction: the store is the victim, retries, and writes', async () => {
      const seen = observed(pool)
      const store = storeOn({ pool: seen.pool, commandTimeout: 10_000 })
      const target = key('deadlock')
      const required = key('deadlock')
      const ballast = Array.from({ length: 5 }, () => key('deadlock'))
      for (const k of [target, required, ...ballast]) {
        await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 })
      }
      const other = await holder()
      try {
        // The other transaction changes several rows (so InnoDB rolls back the store's, the
        // smaller one), then holds `target`.
        for (const k of [...ballast, target]) {
          await other.execute(
            `UPDATE \`${tables.records}\` SET expires_at = expires_at + 1 WHERE \`key\` = ?`,
            [k],
          )
        }
        // The store locks `required`, then waits for `target`…
        const write = store.write(target, {
          mode: 'update',
          set: { w: 'store' },
          ttl: 60,
          requires: required,
        })
        assert.ok(
          await eventually(async () => (await waiting()).length === 1, 5_000),
          'the store waits',
        )
        // …and the other transaction now wants `required`: a cycle, which InnoDB breaks.
        await other.execute(
          `UPDATE \`${tables.records}\` SET expires_at = expires_at + 1 WHERE \`key\` = ?`,
          [required],
        )
        await other.query('COMMIT')
        assert.equal(await write, true, 'the retried write happened')
      } finally {
        await other.query('ROLLBACK').catch(() => {})
        other.release()
      }
      assert.deepEqual(seen.errors, [1213], 'the store met one deadlock')
      assert.equal((await store.get(target))?.w, 'store')
    })

    it('a real lock wait timeout (1205): retried, and done once the lock is released', async () => {
      const shortWaits = testPool(MYSQL_URL)
      // The store's own connections give up a lock wait after 1 s (a session setting).
      shortWaits.pool.on('connection', (connection) => {
        connection.query('SET SESSION innodb_lock_wait_timeout = 1', () => {})
      })
      try {
        const seen = observed(shortWaits)
        const store = storeOn({ pool: seen.pool, commandTimeout: 20_000 })
        const k = key('lockwait')
        await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 })
        const lock = await holder()
        let touched: Promise<boolean> | undefined
        try {
          await lock.execute(`SELECT 1 FROM \`${tables.records}\` WHERE \`key\` = ? FOR UPDATE`, [
            k,
          ])
          touched = store.touch(k, 60, { t: 'after' })
          // The first wait ends with 1205, and the store waits again.
          assert.ok(await eventually(async () => seen.errors.includes(1205), 10_000), 'no 1205')
          assert.ok(await eventually(async () => (await waiting()).length === 1, 5_000))
        } finally {
          await lock.query('ROLLBACK')
          lock.release()
        }
        assert.equal(await touched, true)
        assert.equal((await store.get(k))?.t, 'after')
      } finally {
        await shortWaits.end()
      }
    })

    for (const errno of [1213, 1205]) {
      it(`conflicts that never end (${errno}, injected through a wrapped pool): 4 attempts, then StoreUnavailableError`, async () => {
        let attempts = 0
        const failing: MySqlPoolLike = {
          async getConnection(): Promise<MySqlConnectionLike> {
            const connection = await pool.getConnection()
            return {
              execute(sql, values) {
                if (/^(SET STATEMENT \S+ FOR )?UPDATE /.test(sql)) {
                  attempts++
                  const error = Object.assign(new Error(`injected ${errno}`), { errno })
                  return Promise.reject(error)
                }
                return connection.execute(sql, values)
              },
              query: (sql) => connection.query(sql),
              release: () => connection.release(),
              destroy: () => connection.destroy(),
            }
          },
        }
        const store = storeOn({ pool: failing, commandTimeout: 5_000 })
        const k = key('injected')
        await store.write(k, { mode: 'create', set: { u: '1' }, ttl: 60 })
        const error = await unavailable(
          store.write(k, { mode: 'update', set: { u: '2' }, ttl: 60 }),
          'error',
          'a write that always conflicts',
        )
        assert.equal(attempts, 4)
        assert.match(error.message, /injected \d+ \(tried 4 times\)/)
        assert.equal((error.cause as { errno?: number }).errno, errno)
        assert.deepEqual({ ...(await store.get(k)) }, { u: '1' }, 'nothing written')
      })
    }
  })

  // ---------------------------------------------------------------- over HTTP

  type Route = RouteDef<User>
  const routes: Route[] = [
    { path: '/', handler: () => 'Welcome!' },
    {
      path: '/login',
      handler: async ({ auth }) => String(await auth.loginUser(notch, { remember: true })),
    },
    {
      path: '/username',
      handler: async ({ auth }) => {
        const user = await auth.getUser()
        return user?.isAuthenticated ? user.name : 'Anonymous'
      },
    },
    {
      path: '/protected',
      guard: 'login',
      handler: async ({ auth }) => `Logged in as: ${(await auth.getUser())?.name}`,
    },
  ]
  const layouts = adapters.filter((a) => a.name === 'express' || a.name === 'fetch')
  const chosen: readonly AdapterHarness[] = layouts.length > 0 ? layouts : adapters.slice(0, 1)

  const noCookie = (res: ClientResponse) =>
    res.setCookies.filter((c) => c.name.includes('session') || c.name.includes('remember'))

  for (const adapter of chosen) {
    for (const mode of ['fail', 'anonymous'] as const) {
      describe(`MySqlStore faults over HTTP: ${adapter.name}, onStoreError '${mode}'`, () => {
        let p: TcpProxy
        let client: TestClient
        let base: string
        let close: () => Promise<void>
        before(async () => {
          p = await proxy()
          const store = storeOn({ uri: p.url(), commandTimeout: 300 })
          const manager = new LoginManager<User, UserId>({
            secret: SECRET,
            userLoader: (id) => USERS.get(Number(id)) ?? null,
            loginView: '/login',
            session: { store, onStoreError: mode },
          })
          const app = await adapter.start({ manager, routes })
          base = app.baseUrl
          close = () => app.close()
          client = new TestClient(base)
          assert.equal((await client.get('/login')).body, 'true')
          assert.equal((await client.get('/username')).body, 'Notch')
        })
        after(async () => {
          await close?.()
        })

        it(`database down: ${mode === 'fail' ? '503' : 'anonymous'}; a login fails whole; the process lives`, async () => {
          await p.down()
          const res = await client.get('/username')
          const guarded = await client.get('/protected')
          if (mode === 'fail') {
            assert.equal(res.status, 503, res.body)
            assert.equal(guarded.status, 503)
          } else {
            assert.equal(res.body, 'Anonymous')
            assert.equal(guarded.status, 302)
          }
          assert.deepEqual(noCookie(res), [], 'no cookie set or deleted while the store is away')
          const fresh = new TestClient(base)
          const login = await fresh.get('/login')
          assert.equal(login.status, 503, `a login while down: ${login.status} ${login.body}`)
          assert.deepEqual(noCookie(login), [])
          assert.equal((await new TestClient(base).get('/')).body, 'Welcome!')
        })

        it(`database slow: ${mode === 'fail' ? '503' : 'anonymous'} after the command timeout`, async () => {
          await p.up()
          assert.ok(
            await eventually(async () => (await client.get('/username')).body === 'Notch', 5_000),
          )
          p.stall()
          try {
            const res = await client.get('/username')
            if (mode === 'fail') assert.equal(res.status, 503, res.body)
            else assert.equal(res.body, 'Anonymous')
          } finally {
            p.resume()
          }
        })

        it('database back: the same session, and new logins, work again by themselves', async () => {
          assert.ok(
            await eventually(async () => (await client.get('/username')).body === 'Notch', 5_000),
          )
          const fresh = new TestClient(base)
          assert.equal((await fresh.get('/login')).body, 'true')
          assert.equal((await fresh.get('/protected')).body, 'Logged in as: Notch')
        })
      })
    }
  }
}
