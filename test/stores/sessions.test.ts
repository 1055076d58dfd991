/**
 * Server-side sessions over HTTP, for every adapter in `../conformance/adapters/` and the
 * stores: `MemoryStore` (on the test's clock), `RedisStore` over ioredis on
 * `REDIS_URL` (default redis://127.0.0.1:6379; keys under a prefix unique to the run and to each
 * test, deleted afterwards with SCAN + DEL), `PostgresStore` on `DATABASE_URL` (a schema unique
 * to the run, tables with a prefix unique to each test, dropped afterwards), `MySqlStore` on
 * `MYSQL_URL` (tables with a prefix unique to the run, emptied for each test, dropped
 * afterwards) and `SqliteStore` (a WAL file per test in a temporary directory, on the test's
 * clock). The acceptance list of the server-side sessions
 * issue, point by point:
 *
 * - ids: ≥ 43 base64url characters, signed; the store key is a hash and no copy of the id is
 *   stored; malformed cookies never reach the store; an unknown id creates nothing;
 * - fixation: login rotates and destroys the pre-login record, carrying `next`, flashes and the
 *   data `session.keepOnLogin` keeps over; logout destroys the record; replayed session and
 *   remember cookies are refused (#480);
 * - remember tokens: rotation on restore, validator hashed at rest, theft detection with a grace
 *   window, logout everywhere / other devices, listSessions and revokeSession (which ends the
 *   device's remember-me token too);
 * - timeouts: idle and absolute enforced on the server, the store's TTL follows them, rolling
 *   expiry writes at most once per `touchInterval`;
 * - concurrency: two overlapping requests changing different keys both persist; a request in
 *   flight cannot resurrect a session destroyed or rotated meanwhile;
 * - store down or slow (a private `redis-server` the tests kill and pause): 503 or anonymous as
 *   configured (a remember-me login that cannot be restored too), `storeError` fires, no
 *   half-logged-in state, reconnection works.
 *
 * Without Redis (or PostgreSQL, or MySQL) those parts are skipped with a printed reason, except on CI
 * (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import {
  LoginManager,
  type LoginManagerEvents,
  type LoginManagerOptions,
  MemoryStore,
  type UserId,
} from 'login-manager'
import { MySqlStore } from 'login-manager/mysql'
import { PostgresStore } from 'login-manager/postgres'
import { RedisStore, StoreUnavailableError } from 'login-manager/redis'
import { SqliteStore } from 'login-manager/sqlite'
import { sign } from '../../src/crypto/sign.ts'
import { randomId, randomTag } from '../../src/session/store-keys.ts'
import { adapters } from '../conformance/adapters/index.ts'
import type { AdapterHarness, AppSpec, RouteDef, RunningApp } from '../conformance/harness.ts'
import { type ClientResponse, type ParsedSetCookie, TestClient } from '../support/client.ts'
import { type EventSpy, listen, notch, steve, USERS, type User } from '../support/users.ts'
import {
  dropTables,
  uniquePrefix as mysqlPrefix,
  testPool as mysqlTestPool,
  probeMysql,
} from './mysql-support.ts'
import { asPool, dropSchema, probePostgres, schemaName, testPool } from './postgres-support.ts'
import {
  deleteByPrefix,
  dumpRedis,
  eventually,
  freePort,
  mutableClock,
  ON_CI,
  PrivateRedis,
  probeRedis,
  probeRedisServer,
  rawClient,
  rememberKeyOf,
  rememberParts,
  SpyStore,
  scanKeys,
  sessionKeyOf,
  sessionParts,
  sha256,
  sleep,
} from './support.ts'

// ------------------------------------------------------------------------------------ fixtures

const SECRET = 'store-sessions-suite-secret-Zq4Wm8Xk2Pv6Tn9Rb3'
const IDLE = 600
const ABSOLUTE = 1800
const TOUCH = 60
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'
const LOGIN_MESSAGE = 'Please log in to access this page.'

type Options = LoginManagerOptions<User, UserId>
type Manager = LoginManager<User, UserId>
type Route = RouteDef<User>
type Clock = ReturnType<typeof mutableClock>

const py = (value: boolean): 'True' | 'False' => (value ? 'True' : 'False')
const loadByInt = (id: UserId): User | null => USERS.get(Number(id)) ?? null

const RUN = `lmsess-${randomUUID().slice(0, 8)}:`
const redisUnreachable = await probeRedis()
const serverMissing = probeRedisServer()
/** The shared Redis client of this file (bookkeeping and the RedisStore of the matrix). */
const shared: Redis | undefined = redisUnreachable === null ? rawClient() : undefined

const pgUnreachable = await probePostgres()
/** The PostgreSQL pool of this file, and the run's schema (each test has its own tables in it). */
const pgPool = pgUnreachable === null ? testPool() : undefined
const PG_SCHEMA = schemaName('sessions')

after(async () => {
  if (pgPool === undefined) return
  try {
    await dropSchema(pgPool, PG_SCHEMA)
  } finally {
    await pgPool.end()
  }
})

after(async () => {
  if (shared === undefined) return
  try {
    await deleteByPrefix(shared, RUN)
    assert.equal((await scanKeys(shared, RUN)).length, 0, 'keys of this run are left in Redis')
  } finally {
    shared.disconnect()
  }
})

/** Hand-operated barriers: a route arrives and waits until the test releases it. */
class Gates {
  readonly #arrived = new Map<string, Deferred>()
  readonly #released = new Map<string, Deferred>()

  /** Called by a route: marks it arrived, resolves when released. */
  arrive(name: string): Promise<void> {
    deferred(this.#arrived, name).resolve()
    return deferred(this.#released, name).promise
  }
  arrived(name: string): Promise<void> {
    return deferred(this.#arrived, name).promise
  }
  release(name: string): void {
    deferred(this.#released, name).resolve()
  }
}
interface Deferred {
  promise: Promise<void>
  resolve: () => void
}
function deferred(map: Map<string, Deferred>, name: string): Deferred {
  let d = map.get(name)
  if (d === undefined) {
    let resolve!: () => void
    const promise = new Promise<void>((r) => {
      resolve = r
    })
    d = { promise, resolve }
    map.set(name, d)
  }
  return d
}

function routes(gates: Gates): Route[] {
  return [
    { path: '/', handler: () => 'Welcome!' },
    { path: '/login-notch', handler: async ({ auth }) => py(await auth.loginUser(notch)) },
    {
      path: '/login-notch-remember',
      handler: async ({ auth }) => py(await auth.loginUser(notch, { remember: true })),
    },
    { path: '/login-steve', handler: async ({ auth }) => py(await auth.loginUser(steve)) },
    {
      // `keep`: 'all', 'none', or a comma-separated list of keys.
      path: '/login-notch-keep',
      handler: async ({ auth, query }) => {
        const keep = query('keep') ?? ''
        const list = keep.split(',').filter((k) => k !== '')
        return py(
          await auth.loginUser(notch, { keep: keep === 'all' || keep === 'none' ? keep : list }),
        )
      },
    },
    {
      path: '/confirm',
      handler: async ({ auth }) => {
        await auth.confirmLogin()
        return String(await auth.isFresh())
      },
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
    { path: '/logout', handler: async ({ auth }) => py(await auth.logoutUser()) },
    {
      path: '/flash',
      handler: ({ auth }) => {
        auth.flash('hello there')
        return 'flashed'
      },
    },
    {
      path: '/flashes',
      handler: ({ auth }) => JSON.stringify(auth.consumeFlashes().map((f) => f.message)),
    },
    { path: '/next-url', handler: ({ auth }) => auth.nextUrl('/fallback') },
    {
      path: '/set',
      handler: ({ auth, query }) => {
        auth.session.set(query('k') ?? 'k', query('v') ?? 'v')
        return 'set'
      },
    },
    {
      // Reads the session, waits until the test releases it, then sets a key.
      path: '/set-gated',
      handler: async ({ auth, query }) => {
        auth.session.get('whatever')
        await auth.getUser()
        await gates.arrive(query('gate') ?? 'gate')
        auth.session.set(query('k') ?? 'k', query('v') ?? 'v')
        return 'set'
      },
    },
    {
      path: '/get',
      handler: ({ auth, query }) => JSON.stringify(auth.session.get(query('k') ?? 'k') ?? null),
    },
    {
      path: '/logout-other-devices',
      handler: async ({ auth }) => String(await auth.logoutOtherDevices()),
    },
  ]
}

// ------------------------------------------------------------------------------------ store envs

type Kind = 'memory' | 'redis' | 'postgres' | 'mysql' | 'sqlite'

/** One store for one test: spied, inspectable, cleaned up. */
interface StoreEnv {
  readonly kind: Kind
  readonly spy: SpyStore
  readonly clock: Clock
  /** The record at a login-manager key (read past the spy), or null. */
  record(key: string): Promise<Record<string, string> | null>
  /** How many records (sessions and remember tokens) exist. */
  recordCount(): Promise<number>
  /** Every stored key, field, value and index member as text. */
  dump(): Promise<string>
  /** Redis, PostgreSQL and SQLite: the ms left before a login-manager key expires. */
  pttl(key: string): Promise<number>
  /** Releases what the env holds (PostgreSQL: the store's pool listener). */
  close?(): Promise<void>
}

let envCounter = 0

/** Whether the env can say when a key expires (`pttl`). */
const hasExpiryProbe = (kind: Kind): boolean => kind !== 'memory' && kind !== 'mysql'

function makeEnv(kind: Kind): StoreEnv | Promise<StoreEnv> {
  const clock = mutableClock()
  if (kind === 'sqlite') return makeSqliteEnv(clock)
  if (kind === 'mysql') return mysqlEnv(clock)
  if (kind === 'memory') {
    const inner = new MemoryStore({ now: clock.now })
    const spy = new SpyStore(inner)
    const live = async () => {
      const out: [string, Record<string, string>][] = []
      for (const key of spy.seen) {
        const fields = await inner.get(key)
        if (fields !== null) out.push([key, fields])
      }
      return out
    }
    return {
      kind,
      spy,
      clock,
      record: (key) => inner.get(key),
      recordCount: async () => (await live()).length,
      async dump() {
        const lines = (await live()).map(([k, f]) => `${k} ${JSON.stringify(f)}`)
        for (const key of spy.seen) {
          if (key.endsWith(':idx')) lines.push(`${key} ${JSON.stringify(await inner.members(key))}`)
        }
        return lines.join('\n')
      },
      pttl: () => Promise.reject(new Error('no PTTL for MemoryStore')),
    }
  }
  if (kind === 'postgres') return makePostgresEnv()
  const client = shared
  assert.ok(client !== undefined, 'Redis is not available')
  const prefix = `${RUN}${++envCounter}:`
  const inner = new RedisStore({ client, prefix })
  const spy = new SpyStore(inner)
  return {
    kind,
    spy,
    clock,
    record: (key) => inner.get(key),
    async recordCount() {
      let n = 0
      for (const key of await scanKeys(client, prefix)) if ((await client.type(key)) === 'hash') n++
      return n
    },
    dump: () => dumpRedis(client, prefix),
    pttl: (key) => client.pttl(prefix + key),
  }
}

// SqliteStore: a file per test in a temporary directory, its tables made the way an app's own
// migrations would (SqliteStore.migration()), on the test's clock.
const sqliteDir = mkdtempSync(join(tmpdir(), 'lm-sessions-sqlite-'))
const sqliteDbs: Database.Database[] = []
after(() => {
  for (const db of sqliteDbs) db.close()
  rmSync(sqliteDir, { recursive: true, force: true })
})

function makeSqliteEnv(clock: Clock): StoreEnv {
  const db = new Database(join(sqliteDir, `${++envCounter}.db`))
  sqliteDbs.push(db)
  db.pragma('journal_mode = WAL')
  db.exec(SqliteStore.migration())
  const inner = new SqliteStore({ database: db, now: clock.now, cleanupInterval: 0 })
  const spy = new SpyStore(inner)
  const rows = (sql: string) => db.prepare(sql).all() as Record<string, string | number>[]
  return {
    kind: 'sqlite',
    spy,
    clock,
    record: (key) => inner.get(key),
    recordCount: async () =>
      db
        .prepare('SELECT count(*) FROM login_sessions WHERE expires_at > ?')
        .pluck()
        .get(clock.now()) as number,
    dump: async () =>
      [...rows('SELECT * FROM login_sessions'), ...rows('SELECT * FROM login_session_index')]
        .map((row) => JSON.stringify(row))
        .join('\n'),
    pttl: async (key) =>
      ((db.prepare('SELECT expires_at FROM login_sessions WHERE key = ?').pluck().get(key) as
        | number
        | undefined) ?? -2) - clock.now(),
  }
}

// MySqlStore on MYSQL_URL: one pair of tables for the file (tests run one after the other),
// emptied for each test, dropped at the end.
const mysqlUnreachable = await probeMysql()
const mysqlPool = mysqlUnreachable === null ? mysqlTestPool() : undefined
const MYSQL_PREFIX = mysqlPrefix('sess')
let mysqlTables: Promise<MySqlStore['tables']> | undefined

after(async () => {
  if (mysqlPool === undefined) return
  try {
    if (mysqlTables !== undefined) await dropTables(mysqlPool, await mysqlTables)
  } finally {
    await mysqlPool.end()
  }
})

async function mysqlEnv(clock: Clock): Promise<StoreEnv> {
  const pool = mysqlPool
  assert.ok(pool !== undefined, 'MySQL is not available')
  mysqlTables ??= (async () => {
    const setup = new MySqlStore({ pool, prefix: MYSQL_PREFIX, cleanupInterval: 0 })
    await setup.createSchema()
    return setup.tables
  })()
  const { records, index } = await mysqlTables
  await pool.query(`DELETE FROM \`${records}\``)
  await pool.query(`DELETE FROM \`${index}\``)
  const inner = new MySqlStore({ pool, prefix: MYSQL_PREFIX, cleanupInterval: 0 })
  const spy = new SpyStore(inner)
  const now = "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(6)) DIV 1000)"
  return {
    kind: 'mysql',
    spy,
    clock,
    record: (key) => inner.get(key),
    async recordCount() {
      const [rows] = await pool.query(
        `SELECT COUNT(*) AS n FROM \`${records}\` WHERE expires_at > ${now}`,
      )
      return Number((rows as { n: number }[])[0]?.n)
    },
    async dump() {
      const [rows] = await pool.query(
        `SELECT CAST(\`key\` AS CHAR) AS k, fields FROM \`${records}\` WHERE expires_at > ${now}`,
      )
      const [entries] = await pool.query(
        `SELECT CAST(index_key AS CHAR) AS i, CAST(member_key AS CHAR) AS m FROM \`${index}\``,
      )
      return [
        ...(rows as { k: string; fields: unknown }[]).map(
          (r) => `${r.k} ${JSON.stringify(r.fields)}`,
        ),
        ...(entries as { i: string; m: string }[]).map((e) => `${e.i} ∋ ${e.m}`),
      ].join('\n')
    },
    pttl: () => Promise.reject(new Error('no PTTL for MySqlStore')),
  }
}

/** A PostgresStore on tables of its own (`e<n>_` in the run's schema), created for the test. */
async function makePostgresEnv(): Promise<StoreEnv> {
  const pool = pgPool
  assert.ok(pool !== undefined, 'PostgreSQL is not available')
  const prefix = `e${++envCounter}_`
  // The run's schema is dropped at the end: no background sweep needed.
  const inner = new PostgresStore({
    pool: asPool(pool),
    schema: PG_SCHEMA,
    prefix,
    cleanupInterval: 0,
  })
  await inner.createSchema()
  const records = `"${PG_SCHEMA}"."${prefix}login_sessions"`
  const index = `"${PG_SCHEMA}"."${prefix}login_session_index"`
  return {
    kind: 'postgres',
    spy: new SpyStore(inner),
    clock: mutableClock(),
    record: (key) => inner.get(key),
    async recordCount() {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM ${records} WHERE expires_at > now()`,
      )
      return rows[0].n as number
    },
    async dump() {
      const lines: string[] = []
      for (const row of (await pool.query(`SELECT key, fields FROM ${records} ORDER BY key`))
        .rows) {
        lines.push(`${row.key} ${JSON.stringify(row.fields)}`)
      }
      for (const row of (
        await pool.query(`SELECT index_key, member_key FROM ${index} ORDER BY 1, 2`)
      ).rows) {
        lines.push(`${row.index_key} ∋ ${row.member_key}`)
      }
      return lines.join('\n')
    },
    async pttl(key) {
      const { rows } = await pool.query(
        `SELECT (extract(epoch FROM expires_at - now()) * 1000)::bigint AS ms FROM ${records} WHERE key = $1`,
        [key],
      )
      return rows.length === 0 ? -2 : Number(rows[0].ms)
    },
    close: () => inner.close(),
  }
}

interface Ctx {
  readonly env: StoreEnv
  readonly manager: Manager
  readonly gates: Gates
  readonly app: RunningApp
  /** A new browser. */
  browser(cookies?: Record<string, string>): TestClient
}

/** Serves the suite's app on `adapter` over a fresh store of `kind`, runs `body`, closes. */
async function withStoreApp(
  adapter: AdapterHarness,
  kind: Kind,
  body: (ctx: Ctx) => Promise<void>,
  overrides: Partial<Options> = {},
): Promise<void> {
  const env = await makeEnv(kind)
  const gates = new Gates()
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: loadByInt,
    loginView: '/login',
    useSessionForNext: true,
    now: env.clock.now,
    ...overrides,
    session: {
      store: env.spy,
      idleTimeout: IDLE,
      absoluteTimeout: ABSOLUTE,
      touchInterval: TOUCH,
      ...overrides.session,
    },
  })
  const spec: AppSpec<User> = { manager, routes: routes(gates) }
  const app = await adapter.start(spec)
  try {
    await body({
      env,
      manager,
      gates,
      app,
      browser(cookies = {}) {
        const client = new TestClient(app.baseUrl)
        for (const [name, value] of Object.entries(cookies)) client.jar.set(name, value)
        return client
      },
    })
  } finally {
    await app.close()
    await env.close?.()
  }
}

// ------------------------------------------------------------------------------------ helpers

function cookieIn(res: ClientResponse, name: string): ParsedSetCookie | undefined {
  return res.setCookies.find((c) => c.name === name)
}

function assertDeletes(res: ClientResponse, name: string): void {
  const cookie = cookieIn(res, name)
  assert.ok(
    cookie !== undefined && cookie.value === '' && (cookie.maxAge ?? 1) <= 0,
    `expected ${name} to be deleted, got ${cookie?.raw ?? 'no Set-Cookie'}`,
  )
}

function jarValue(client: TestClient, name: string): string {
  const value = client.jar.get(name)?.value
  assert.ok(value !== undefined && value !== '', `the browser has no ${name} cookie`)
  return value
}

async function text(client: TestClient, path: string): Promise<string> {
  const res = await client.get(path)
  assert.equal(res.status, 200, `${path} answered ${res.status}: ${res.body}`)
  return res.body
}

/** The `listSessions` handle of a session cookie: `tag.sha256(id)`. */
function handleOf(value: string): string {
  const { id, tag } = sessionParts(value)
  return `${tag}.${sha256(id)}`
}

/** A copy of a signed value with one character of its MAC changed. */
function tamper(value: string): string {
  const i = value.length - 10
  const c = value[i] === 'A' ? 'B' : 'A'
  return value.slice(0, i) + c + value.slice(i + 1)
}

// ------------------------------------------------------------------------------------ the matrix

const kinds: Kind[] = ['memory', 'redis', 'postgres', 'mysql', 'sqlite']
const STORE_NAMES: Record<Kind, string> = {
  memory: 'MemoryStore',
  redis: 'RedisStore',
  postgres: 'PostgresStore',
  mysql: 'MySqlStore',
  sqlite: 'SqliteStore',
}

function skipRedis(kind: Kind): string | undefined {
  if (kind === 'mysql') return mysqlUnreachable ?? undefined
  if (kind === 'postgres') return pgUnreachable ?? undefined
  return kind === 'redis' && redisUnreachable !== null ? redisUnreachable : undefined
}

if (pgUnreachable !== null) {
  if (ON_CI) {
    describe('PostgreSQL for the session store tests', () => {
      it('needs a reachable PostgreSQL on CI', () => {
        assert.fail(
          `${pgUnreachable}. Start PostgreSQL or set DATABASE_URL; on CI these tests must run.`,
        )
      })
    })
  } else {
    console.log(`# skipping the PostgresStore session tests: ${pgUnreachable}`)
  }
}

if (mysqlUnreachable !== null) {
  if (ON_CI) {
    describe('MySQL for the session store tests', () => {
      it('needs a reachable MySQL or MariaDB on CI', () => {
        assert.fail(
          `${mysqlUnreachable}. Start MariaDB or set MYSQL_URL; on CI these tests must run.`,
        )
      })
    })
  } else {
    console.log(`# skipping the MySqlStore session tests: ${mysqlUnreachable}`)
  }
}

if (redisUnreachable !== null) {
  if (ON_CI) {
    describe('Redis for the session store tests', () => {
      it('needs a reachable Redis on CI', () => {
        assert.fail(
          `${redisUnreachable}. Start Redis or set REDIS_URL; on CI these tests must run.`,
        )
      })
    })
  } else {
    console.log(`# skipping the RedisStore session tests: ${redisUnreachable}`)
  }
}

for (const adapter of adapters) {
  for (const kind of kinds) {
    const skip = skipRedis(kind)
    describe(`${adapter.name} × ${STORE_NAMES[kind]}`, {
      skip: skip ?? false,
    }, () => {
      // ---------------------------------------------------------------- ids and keys

      it('session ids are ≥ 43 base64url characters, signed, stored only as a hash', async () => {
        await withStoreApp(adapter, kind, async ({ env, browser }) => {
          const c = browser()
          assert.equal(await text(c, '/login-notch'), 'True')
          const value = jarValue(c, SESSION)
          const { id, tag } = sessionParts(value)
          assert.match(id, /^[A-Za-z0-9_-]{43,}$/, 'id: at least 43 base64url characters')
          assert.ok(Buffer.from(id, 'base64url').length >= 16, 'at least 128 bits')
          assert.match(value, /\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/, 'the cookie is signed')

          const key = sessionKeyOf(value)
          assert.notEqual(key, value)
          assert.ok(!key.includes(id), 'the store key does not contain the id')
          assert.notEqual(await env.record(key), null, 'the record lives under the hashed id')
          assert.equal(await env.record(`lm:{${tag}}:s:${id}`), null)
          const dump = await env.dump()
          assert.ok(dump.length > 0)
          assert.ok(!dump.includes(id), `the store holds the session id in the clear:\n${dump}`)
          assert.ok(!dump.includes(value), 'the store holds the cookie value')

          // Another login gets another id.
          const other = browser()
          await text(other, '/login-notch')
          assert.notEqual(sessionParts(jarValue(other, SESSION)).id, id)
        })
      })

      it('a malformed session cookie never reaches the store; an unknown id creates nothing', async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const good = browser()
          await text(good, '/login-notch')
          const valid = jarValue(good, SESSION)
          const keys = manager._keys.forPurpose('session-id')
          const malformed: [string, string][] = [
            ['garbage', 'not-a-session-cookie'],
            ['empty-ish', '~'],
            ['wrong signature', tamper(valid)],
            ['signed, one part', sign(keys, randomId())],
            ['signed, three parts', sign(keys, `${randomId()}~${randomTag()}~${randomTag()}`)],
            ['signed, short id', sign(keys, `${randomId().slice(0, 42)}~${randomTag()}`)],
            ['signed, long id', sign(keys, `${randomId()}A~${randomTag()}`)],
            ['signed, short tag', sign(keys, `${randomId()}~${randomTag().slice(0, 21)}`)],
            ['signed, bad characters', sign(keys, `${randomId().slice(0, 42)}+~${randomTag()}`)],
            ['signed, braces in tag', sign(keys, `${randomId()}~${randomTag().slice(0, 20)}}{`)],
            ['too long', sign(keys, `${randomId()}~${'A'.repeat(600)}`)],
          ]
          const before = await env.recordCount()
          for (const [label, value] of malformed) {
            env.spy.reset()
            const c = browser({ [SESSION]: value })
            const res = await c.get('/username')
            assert.equal(res.body, 'Anonymous', label)
            assert.equal(
              env.spy.total,
              0,
              `${label}: the store was called ${JSON.stringify(env.spy.log)}`,
            )
            assertDeletes(res, SESSION)
          }
          // A malformed remember cookie does not reach the store either.
          env.spy.reset()
          const r = browser({ [REMEMBER]: 'garbage~garbage~garbage' })
          assert.equal(await text(r, '/username'), 'Anonymous')
          assert.equal(env.spy.total, 0, `remember: ${JSON.stringify(env.spy.log)}`)

          // Well signed, well shaped, unknown: one read, nothing created, the cookie deleted.
          env.spy.reset()
          const unknown = browser({ [SESSION]: sign(keys, `${randomId()}~${randomTag()}`) })
          const res = await unknown.get('/username')
          assert.equal(res.body, 'Anonymous')
          assertDeletes(res, SESSION)
          assert.equal(env.spy.calls.get, 1, JSON.stringify(env.spy.log))
          assert.equal(env.spy.total, 1, JSON.stringify(env.spy.log))
          assert.equal(await env.recordCount(), before, 'an unknown id created a record')
          // Also for a route that writes to the session: a new id, never the presented one.
          const writer = browser({ [SESSION]: sign(keys, `${randomId()}~${randomTag()}`) })
          const presented = jarValue(writer, SESSION)
          await text(writer, '/set?k=a&v=1')
          assert.notEqual(jarValue(writer, SESSION), presented)
          assert.equal(await env.record(sessionKeyOf(presented)), null)
        })
      })

      // ---------------------------------------------------------------- fixation

      it('login rotates the id, destroys the pre-login record, keeps next and flashes', async () => {
        await withStoreApp(adapter, kind, async ({ env, browser }) => {
          const c = browser()
          assert.equal(await text(c, '/flash'), 'flashed')
          const before = jarValue(c, SESSION)
          assert.notEqual(await env.record(sessionKeyOf(before)), null)
          const guarded = await c.get('/protected')
          assert.equal(guarded.status, 302)
          assert.equal(guarded.location, '/login', 'useSessionForNext keeps next in the session')
          assert.equal(jarValue(c, SESSION), before)

          assert.equal(await text(c, '/login-notch'), 'True')
          const after = jarValue(c, SESSION)
          assert.notEqual(after, before, 'login gives a new session id')
          assert.notEqual(sessionParts(after).id, sessionParts(before).id)
          assert.equal(await env.record(sessionKeyOf(before)), null, 'the old record is gone')
          assert.notEqual(await env.record(sessionKeyOf(after)), null)

          assert.deepEqual(JSON.parse(await text(c, '/flashes')), ['hello there', LOGIN_MESSAGE])
          assert.match(await text(c, '/next-url'), /^(https?:\/\/[^/]+)?\/protected$/)
          assert.equal(await text(c, '/username'), 'Notch')

          // The pre-login cookie is dead.
          const replay = browser({ [SESSION]: before })
          assert.equal(await text(replay, '/username'), 'Anonymous')
          assert.equal(await env.record(sessionKeyOf(before)), null)
        })
      })

      it("another user's session data does not survive a login", async () => {
        await withStoreApp(adapter, kind, async ({ browser }) => {
          const c = browser()
          await text(c, '/login-notch')
          await text(c, '/set?k=cart&v=notch-cart')
          assert.equal(await text(c, '/get?k=cart'), '"notch-cart"')
          await text(c, '/login-steve')
          assert.equal(await text(c, '/username'), 'Steve')
          assert.equal(await text(c, '/get?k=cart'), 'null')
        })
      })

      it('keepOnLogin: the new record holds only the kept keys, next and flashes; the old one is gone', async () => {
        await withStoreApp(
          adapter,
          kind,
          async ({ env, browser }) => {
            const dataFields = async (value: string) =>
              Object.keys((await env.record(sessionKeyOf(value))) ?? {})
                .filter((field) => field.startsWith('d:'))
                .sort()
            const c = browser()
            await text(c, '/set?k=cart&v=3-items')
            await text(c, '/set?k=theme&v=dark')
            await text(c, '/flash')
            assert.equal((await c.get('/protected')).status, 302)
            const before = jarValue(c, SESSION)
            assert.deepEqual(await dataFields(before), ['d:cart', 'd:theme'])

            assert.equal(await text(c, '/login-notch'), 'True')
            const after = jarValue(c, SESSION)
            assert.notEqual(after, before)
            assert.equal(await env.record(sessionKeyOf(before)), null, 'the old record is gone')
            assert.deepEqual(await dataFields(after), ['d:cart'], await env.dump())
            assert.equal(await text(c, '/get?k=cart'), '"3-items"')
            assert.equal(await text(c, '/get?k=theme'), 'null')
            assert.deepEqual(JSON.parse(await text(c, '/flashes')), ['hello there', LOGIN_MESSAGE])
            assert.match(await text(c, '/next-url'), /^(https?:\/\/[^/]+)?\/protected$/)

            // loginUser({ keep }) overrides the option: the same user logs in again.
            await text(c, '/set?k=theme&v=light')
            assert.equal(await text(c, '/login-notch-keep?keep=none'), 'True')
            assert.deepEqual(await dataFields(jarValue(c, SESSION)), [], await env.dump())
            assert.equal(await text(c, '/get?k=cart'), 'null')
            await text(c, '/set?k=cart&v=1')
            await text(c, '/set?k=theme&v=light')
            assert.equal(await text(c, '/login-notch-keep?keep=all'), 'True')
            assert.deepEqual(await dataFields(jarValue(c, SESSION)), ['d:cart', 'd:theme'])
            assert.equal(await text(c, '/username'), 'Notch')
            assert.equal(await env.recordCount(), 1, await env.dump())
          },
          { session: { keepOnLogin: ['cart'] } },
        )
      })

      it('logout destroys the record and the token; replayed cookies are refused (#480)', async () => {
        await withStoreApp(adapter, kind, async ({ env, browser }) => {
          const c = browser()
          assert.equal(await text(c, '/login-notch-remember'), 'True')
          const session = jarValue(c, SESSION)
          const remember = jarValue(c, REMEMBER)
          assert.notEqual(await env.record(sessionKeyOf(session)), null)
          assert.notEqual(await env.record(rememberKeyOf(remember)), null)

          const res = await c.get('/logout')
          assert.equal(res.body, 'True')
          assertDeletes(res, SESSION)
          assertDeletes(res, REMEMBER)
          assert.equal(await env.record(sessionKeyOf(session)), null, 'the session record is gone')
          assert.equal(await env.record(rememberKeyOf(remember)), null, 'the token is gone')
          assert.equal(await env.recordCount(), 0, await env.dump())

          const both = browser({ [SESSION]: session, [REMEMBER]: remember })
          assert.equal(await text(both, '/username'), 'Anonymous')
          const rememberOnly = browser({ [REMEMBER]: remember })
          assert.equal(await text(rememberOnly, '/username'), 'Anonymous')
          assert.equal(await env.recordCount(), 0, 'a refused replay created a record')
          assert.equal(await env.record(rememberKeyOf(remember)), null)
          assert.equal((await rememberOnly.get('/protected')).status, 302)
        })
      })

      // ---------------------------------------------------------------- remember tokens

      it('a remember token is rotated on restore and its validator is hashed at rest', async () => {
        await withStoreApp(adapter, kind, async ({ env, browser }) => {
          const c = browser()
          await text(c, '/login-notch-remember')
          const first = jarValue(c, REMEMBER)
          c.restartBrowser()
          assert.equal(c.jar.get(SESSION), undefined)
          env.clock.advance(1)
          const res = await c.get('/username')
          assert.equal(res.body, 'Notch')
          const rotated = cookieIn(res, REMEMBER)
          assert.ok(rotated !== undefined && rotated.value !== '', 'a new remember cookie is sent')
          assert.notEqual(rotated.value, first, 'the remember cookie value changed')
          assert.equal(rememberKeyOf(rotated.value), rememberKeyOf(first), 'same series')

          const dump = await env.dump()
          for (const value of [first, rotated.value]) {
            const { validator } = rememberParts(value)
            assert.ok(!dump.includes(validator), `a validator is stored in the clear:\n${dump}`)
            assert.ok(!dump.includes(value), 'a remember cookie value is stored')
          }
        })
      })

      it('an old validator after the grace window is theft: refused, event, series revoked', async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const reused = listen(manager, 'rememberTokenReused')
          const c = browser()
          await text(c, '/login-notch-remember')
          const old = jarValue(c, REMEMBER)
          c.restartBrowser()
          env.clock.advance(1)
          assert.equal(await text(c, '/username'), 'Notch')
          const current = jarValue(c, REMEMBER)
          assert.notEqual(current, old)

          env.clock.advance(31)
          const thief = browser({ [REMEMBER]: old })
          const res = await thief.get('/username')
          assert.equal(res.body, 'Anonymous')
          assertDeletes(res, REMEMBER)
          reused.heardOne(({ userId }) => String(userId) === '1')
          assert.equal(await env.record(rememberKeyOf(old)), null, 'the series is revoked')

          const owner = browser({ [REMEMBER]: current })
          assert.equal(await text(owner, '/username'), 'Anonymous', 'the new value died too')
        })
      })

      it('within the grace window the old validator is accepted without a new cookie', async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const reused = listen(manager, 'rememberTokenReused')
          const c = browser()
          await text(c, '/login-notch-remember')
          const old = jarValue(c, REMEMBER)
          c.restartBrowser()
          env.clock.advance(1)
          assert.equal(await text(c, '/username'), 'Notch')
          const current = jarValue(c, REMEMBER)

          env.clock.advance(5)
          const parallel = browser({ [REMEMBER]: old })
          const res = await parallel.get('/username')
          assert.equal(res.body, 'Notch', 'a parallel request of the same browser is accepted')
          assert.equal(cookieIn(res, REMEMBER), undefined, 'and gets no new remember cookie')
          reused.heardNone()
          // The current value still works.
          const later = browser({ [REMEMBER]: current })
          assert.equal(await text(later, '/username'), 'Notch')
        })
      })

      // ---------------------------------------------------------------- server-side APIs

      it('manager.logoutEverywhere ends the sessions and tokens of every browser', async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const a = browser()
          const b = browser()
          await text(a, '/login-notch-remember')
          await text(b, '/login-notch-remember')
          const steveBrowser = browser()
          await text(steveBrowser, '/login-steve')
          const cookies = [a, b].map((x) => ({
            [SESSION]: jarValue(x, SESSION),
            [REMEMBER]: jarValue(x, REMEMBER),
          }))
          assert.equal(await manager.logoutEverywhere(1), 4, 'two sessions and two tokens')
          assert.deepEqual(await manager.listSessions(1), [])
          for (const jar of cookies) {
            assert.equal(await text(browser(jar), '/username'), 'Anonymous')
            const rememberOnly = browser({ [REMEMBER]: jar[REMEMBER] as string })
            assert.equal(await text(rememberOnly, '/username'), 'Anonymous')
            assert.equal(await env.record(sessionKeyOf(jar[SESSION] as string)), null)
            assert.equal(await env.record(rememberKeyOf(jar[REMEMBER] as string)), null)
          }
          assert.equal(await text(steveBrowser, '/username'), 'Steve', 'other users stay')
        })
      })

      it('auth.logoutOtherDevices keeps this session and token, ends the others', async () => {
        await withStoreApp(adapter, kind, async ({ browser }) => {
          const a = browser()
          const b = browser()
          await text(a, '/login-notch-remember')
          await text(b, '/login-notch-remember')
          const bCookies = { [SESSION]: jarValue(b, SESSION), [REMEMBER]: jarValue(b, REMEMBER) }
          assert.equal(await text(a, '/logout-other-devices'), '2')
          assert.equal(await text(a, '/username'), 'Notch')
          a.restartBrowser()
          assert.equal(await text(a, '/username'), 'Notch', "this device's token still works")
          assert.equal(await text(browser(bCookies), '/username'), 'Anonymous')
          const bRemember = browser({ [REMEMBER]: bCookies[REMEMBER] })
          assert.equal(await text(bRemember, '/username'), 'Anonymous')
        })
      })

      it('listSessions lists both sessions by handle; revokeSession ends exactly one', async () => {
        await withStoreApp(adapter, kind, async ({ manager, browser }) => {
          const a = browser()
          const b = browser()
          await text(a, '/login-notch')
          await text(b, '/login-notch')
          const ids = [a, b].map((x) => sessionParts(jarValue(x, SESSION)).id)
          const sessions = await manager.listSessions(1)
          assert.equal(sessions.length, 2, JSON.stringify(sessions))
          const handles = sessions.map((s) => s.handle)
          assert.equal(new Set(handles).size, 2)
          for (const s of sessions) {
            assert.ok(typeof s.handle === 'string' && s.handle !== '')
            for (const id of ids) assert.ok(!s.handle.includes(id), 'a handle reveals a session id')
            assert.ok(Number.isFinite(s.createdAt) && Number.isFinite(s.lastActive))
          }
          assert.equal(await manager.revokeSession(2, handles[0] as string), false, 'not steve’s')
          assert.equal(await manager.revokeSession(1, handles[0] as string), true)
          const names = [await text(a, '/username'), await text(b, '/username')].sort()
          assert.deepEqual(names, ['Anonymous', 'Notch'])
          const left = await manager.listSessions(1)
          assert.deepEqual(
            left.map((s) => s.handle),
            [handles[1]],
          )
          assert.equal(await manager.revokeSession(1, handles[0] as string), false, 'already gone')
        })
      })

      it('listSessions leaves out a record that does not decode (never NaN times)', async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const a = browser()
          const b = browser()
          await text(a, '/login-notch')
          await text(b, '/login-notch')
          const key = sessionKeyOf(jarValue(a, SESSION))
          await env.spy.write(key, { mode: 'update', set: { c: 'not a time' }, ttl: 60 })
          const sessions = await manager.listSessions(1)
          assert.deepEqual(
            sessions.map((s) => s.handle),
            [handleOf(jarValue(b, SESSION))],
          )
          assert.equal(await text(a, '/username'), 'Anonymous', 'the corrupt record is no session')
        })
      })

      it("revokeSession also ends that device's remember-me token; other devices stay", async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const a = browser()
          const b = browser()
          await text(a, '/login-notch-remember')
          await text(b, '/login-notch-remember')
          const aCookies = { [SESSION]: jarValue(a, SESSION), [REMEMBER]: jarValue(a, REMEMBER) }
          const sessions = await manager.listSessions(1)
          assert.equal(
            sessions.length,
            2,
            `the tokens are not sessions: ${JSON.stringify(sessions)}`,
          )
          const handle = handleOf(aCookies[SESSION])
          assert.ok(sessions.some((s) => s.handle === handle))

          assert.equal(await manager.revokeSession(1, handle), true)
          assert.equal(await env.record(sessionKeyOf(aCookies[SESSION])), null)
          assert.equal(
            await env.record(rememberKeyOf(aCookies[REMEMBER])),
            null,
            'the token is gone',
          )
          // The revoked device, with both of its cookies, or only the remember-me one: anonymous.
          assert.equal(await text(browser(aCookies), '/username'), 'Anonymous')
          const guarded = await browser(aCookies).get('/protected')
          assert.equal(guarded.status, 302)
          assert.match(guarded.location ?? '', /^\/login/)
          const rememberOnly = browser({ [REMEMBER]: aCookies[REMEMBER] })
          assert.equal(await text(rememberOnly, '/username'), 'Anonymous')

          // The other device keeps its session and its token.
          assert.equal(await text(b, '/protected'), 'Logged in as: Notch')
          assert.equal((await manager.listSessions(1)).length, 1)
          b.restartBrowser()
          assert.equal(await text(b, '/username'), 'Notch', "the other device's token works")
        })
      })

      it('the session–token link follows a restore and a re-authentication', async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const a = browser()
          const b = browser()
          await text(a, '/login-notch-remember')
          await text(b, '/login-notch-remember')
          // The browser restarts: the token restores the login into a new session.
          a.restartBrowser()
          env.clock.advance(1)
          assert.equal(await text(a, '/username'), 'Notch')
          const restored = jarValue(a, SESSION)
          // Re-authentication moves the session to a new id again.
          assert.equal(await text(a, '/confirm'), 'true')
          const confirmed = jarValue(a, SESSION)
          assert.notEqual(confirmed, restored)
          assert.equal(await env.record(sessionKeyOf(restored)), null)
          const cookies = { [SESSION]: confirmed, [REMEMBER]: jarValue(a, REMEMBER) }

          assert.equal(await manager.revokeSession(1, handleOf(confirmed)), true)
          assert.equal(await env.record(rememberKeyOf(cookies[REMEMBER])), null, await env.dump())
          assert.equal(await text(browser(cookies), '/username'), 'Anonymous')
          assert.equal((await browser(cookies).get('/protected')).status, 302)
          b.restartBrowser()
          assert.equal(await text(b, '/username'), 'Notch')
        })
      })

      it('a login without remember-me unlinks the token it replaced', async () => {
        await withStoreApp(adapter, kind, async ({ env, manager, browser }) => {
          const c = browser()
          await text(c, '/login-notch-remember')
          const token = jarValue(c, REMEMBER)
          // Logging in again without remember-me deletes the token; the new record names none.
          assert.equal(await text(c, '/login-notch'), 'True')
          assert.equal(c.jar.get(REMEMBER), undefined)
          const record = await env.record(sessionKeyOf(jarValue(c, SESSION)))
          assert.ok(record !== null)
          assert.equal(record.r, undefined, JSON.stringify(record))
          assert.equal(await env.record(rememberKeyOf(token)), null)
          // With remember-me, the record names the new token.
          assert.equal(await text(c, '/login-notch-remember'), 'True')
          const linked = await env.record(sessionKeyOf(jarValue(c, SESSION)))
          assert.equal(linked?.r, rememberKeyOf(jarValue(c, REMEMBER)))
          assert.equal((await manager.listSessions(1)).length, 1)
        })
      })

      // ---------------------------------------------------------------- timeouts

      it('idle timeout: enforced on the server, the record removed, the TTL follows it', async () => {
        await withStoreApp(adapter, kind, async ({ env, browser }) => {
          const c = browser()
          await text(c, '/login-notch')
          const key = sessionKeyOf(jarValue(c, SESSION))
          if (hasExpiryProbe(env.kind)) {
            const pttl = await env.pttl(key)
            assert.ok(pttl > 0 && pttl <= IDLE * 1000, `PTTL ${pttl} > idle timeout`)
          }
          env.clock.advance(IDLE - 1)
          assert.equal(await text(c, '/username'), 'Notch')
          env.clock.advance(IDLE + 1)
          if (env.kind === 'memory' || env.kind === 'sqlite') {
            assert.equal(await env.record(key), null, "the store's TTL follows the idle timeout")
          }
          const res = await c.get('/username')
          assert.equal(res.body, 'Anonymous')
          assertDeletes(res, SESSION)
          assert.equal(await env.record(key), null, 'the timed-out record is removed')
        })
      })

      it('absolute timeout: enforced however active; the TTL never passes the deadline', async () => {
        await withStoreApp(adapter, kind, async ({ env, browser }) => {
          const c = browser()
          await text(c, '/login-notch')
          const key = sessionKeyOf(jarValue(c, SESSION))
          for (let t = 500; t <= 1500; t += 500) {
            env.clock.advance(500)
            assert.equal(await text(c, '/username'), 'Notch', `active at +${t}s`)
          }
          if (hasExpiryProbe(env.kind)) {
            const pttl = await env.pttl(key)
            assert.ok(pttl > 0, 'the record exists')
            assert.ok(pttl <= (ABSOLUTE - 1500) * 1000, `PTTL ${pttl} ms passes the deadline`)
          }
          env.clock.advance(ABSOLUTE - 1500 + 1)
          if (env.kind === 'memory' || env.kind === 'sqlite') {
            assert.equal(await env.record(key), null, "the store's TTL ends at the deadline")
          }
          const res = await c.get('/username')
          assert.equal(res.body, 'Anonymous')
          assertDeletes(res, SESSION)
          assert.equal(await env.record(key), null)
        })
      })

      it('rolling expiry: no store write within touchInterval, exactly one after it', async () => {
        await withStoreApp(adapter, kind, async ({ env, browser }) => {
          const c = browser()
          await text(c, '/login-notch')
          const key = sessionKeyOf(jarValue(c, SESSION))
          env.spy.reset()
          for (const step of [10, 20, 29]) {
            env.clock.advance(step)
            assert.equal(await text(c, '/username'), 'Notch')
          }
          assert.equal(
            env.spy.writes,
            0,
            `writes within touchInterval: ${JSON.stringify(env.spy.log)}`,
          )
          env.clock.advance(2) // 61 s after login
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(
            env.spy.writes,
            1,
            `one write after touchInterval: ${JSON.stringify(env.spy.log)}`,
          )
          if (hasExpiryProbe(env.kind)) {
            const pttl = await env.pttl(key)
            assert.ok(pttl > (IDLE - 5) * 1000 && pttl <= IDLE * 1000, `PTTL ${pttl} not renewed`)
          }
          env.clock.advance(10)
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(env.spy.writes, 1, 'no write right after a touch')
          // The touch moved the idle deadline: 61 + 10 + 595 s after login is still inside it.
          env.clock.advance(IDLE - 15)
          assert.equal(await text(c, '/username'), 'Notch')
        })
      })

      // ---------------------------------------------------------------- concurrency

      it('two overlapping requests changing different keys both persist', async () => {
        await withStoreApp(adapter, kind, async ({ gates, browser }) => {
          const c = browser()
          await text(c, '/login-notch')
          await text(c, '/set?k=base&v=0')
          const one = c.get('/set-gated?k=a&v=1&gate=one')
          const two = c.get('/set-gated?k=b&v=2&gate=two')
          // Both have loaded the same state before either writes.
          await Promise.all([gates.arrived('one'), gates.arrived('two')])
          gates.release('two')
          gates.release('one')
          const [r1, r2] = await Promise.all([one, two])
          assert.equal(r1.status, 200)
          assert.equal(r2.status, 200)
          assert.equal(await text(c, '/get?k=a'), '"1"')
          assert.equal(await text(c, '/get?k=b'), '"2"')
          assert.equal(await text(c, '/get?k=base'), '"0"')
          assert.equal(await text(c, '/username'), 'Notch')
        })
      })

      for (const [label, end] of [
        [
          'a logout',
          async ({ browser }: Ctx, cookies: Record<string, string>) => {
            assert.equal(await text(browser(cookies), '/logout'), 'True')
          },
        ],
        [
          'manager.logoutEverywhere',
          async ({ manager }: Ctx, _cookies: Record<string, string>) => {
            assert.ok((await manager.logoutEverywhere(1)) >= 1)
          },
        ],
      ] as const) {
        it(`a request in flight cannot bring back a session ended by ${label}`, async () => {
          await withStoreApp(adapter, kind, async (ctx) => {
            const { env, gates, browser } = ctx
            const c = browser()
            await text(c, '/login-notch-remember')
            const cookies = { [SESSION]: jarValue(c, SESSION), [REMEMBER]: jarValue(c, REMEMBER) }
            const key = sessionKeyOf(cookies[SESSION])
            const slow = c.get('/set-gated?k=late&v=1&gate=slow')
            await gates.arrived('slow')
            await end(ctx, cookies)
            assert.equal(await env.record(key), null)
            gates.release('slow')
            const res = await slow
            assert.ok(res.status < 500, `the slow request answered ${res.status}`)
            assert.equal(await env.record(key), null, 'the ended session was brought back')
            assert.equal(await env.recordCount(), 0, await env.dump())
            assert.equal(await text(browser(cookies), '/username'), 'Anonymous')
            assert.equal(
              await text(browser({ [SESSION]: cookies[SESSION] }), '/get?k=late'),
              'null',
            )
          })
        })
      }

      it('a request in flight cannot bring back a session rotated by a login', async () => {
        await withStoreApp(adapter, kind, async ({ env, gates, browser }) => {
          const c = browser()
          await text(c, '/set?k=pre&v=1')
          const before = jarValue(c, SESSION)
          const slow = browser({ [SESSION]: before }).get('/set-gated?k=late&v=1&gate=slow')
          await gates.arrived('slow')
          assert.equal(await text(c, '/login-notch'), 'True')
          const after = jarValue(c, SESSION)
          gates.release('slow')
          assert.ok((await slow).status < 500)
          assert.equal(await env.record(sessionKeyOf(before)), null, 'the rotated record is back')
          assert.equal(await env.recordCount(), 1, await env.dump())
          assert.equal(await text(c, '/get?k=late'), 'null')
          assert.equal(await text(c, '/get?k=pre'), '"1"')
          assert.notEqual(after, before)
        })
      })
    })
  }
}

// ------------------------------------------------------------------------------------ store down

/** One app on a private redis-server for a sequence of store-down tests. */
interface DownCtx {
  readonly server: PrivateRedis
  readonly manager: Manager
  readonly storeErrors: EventSpy<LoginManagerEvents<User, UserId>['storeError']>
  /** The browser logged in while Redis was up, and its cookies. */
  readonly user: TestClient
  readonly cookies: Record<string, string>
  browser(cookies?: Record<string, string>): TestClient
  close(): Promise<void>
}

/**
 * A private redis-server (never the shared one), an ioredis client that fails fast while it is
 * down, a RedisStore with a 300 ms command timeout, and the suite's app on `adapter`.
 */
async function startDown(
  adapter: AdapterHarness,
  onStoreError: 'fail' | 'anonymous',
): Promise<DownCtx> {
  const server = new PrivateRedis(await freePort())
  servers.add(server)
  await server.start()
  const client = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  client.on('error', () => {
    // Connection errors while the server is down are expected; the storeError event reports them.
  })
  if (client.status !== 'ready') await once(client, 'ready')
  const store = new RedisStore({ client, prefix: 'down:', commandTimeout: 300 })
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: loadByInt,
    loginView: '/login',
    useSessionForNext: true,
    session: { store, onStoreError },
  })
  const storeErrors = listen(manager, 'storeError')
  const app = await adapter.start({ manager, routes: routes(new Gates()) })
  const browser = (cookies: Record<string, string> = {}) => {
    const c = new TestClient(app.baseUrl)
    for (const [name, value] of Object.entries(cookies)) c.jar.set(name, value)
    return c
  }
  const user = browser()
  assert.equal(await text(user, '/login-notch-remember'), 'True')
  assert.equal(await text(user, '/username'), 'Notch')
  return {
    server,
    manager,
    storeErrors,
    user,
    cookies: { [SESSION]: jarValue(user, SESSION), [REMEMBER]: jarValue(user, REMEMBER) },
    browser,
    async close() {
      await app.close()
      client.disconnect()
      await server.kill()
      servers.delete(server)
    },
  }
}

const servers = new Set<PrivateRedis>()
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason)
}

/** A 503 from the store failure, with no session or remember cookie set. */
function assertUnavailable(res: ClientResponse, what: string): void {
  assert.equal(res.status, 503, `${what}: expected 503, got ${res.status} ${res.body}`)
  assert.match(res.body, /Service Unavailable/)
  const set = res.setCookies.filter((c) => c.name === SESSION || c.name === REMEMBER)
  assert.deepEqual(
    set.map((c) => c.raw),
    [],
    `${what}: a 503 must set no session or remember cookie`,
  )
}

/** The browser still holds the cookies it had (nothing deleted while the store was away). */
function assertKept(ctx: DownCtx): void {
  assert.deepEqual(
    { s: ctx.user.jar.get(SESSION)?.value, r: ctx.user.jar.get(REMEMBER)?.value },
    { s: ctx.cookies[SESSION], r: ctx.cookies[REMEMBER] },
    'the browser keeps its cookies for when the store is back',
  )
}

describe('store down or slow (a private redis-server per adapter)', {
  skip: serverMissing !== null && !ON_CI ? serverMissing : false,
}, () => {
  before(() => {
    process.on('unhandledRejection', onUnhandled)
  })
  after(async () => {
    process.off('unhandledRejection', onUnhandled)
    await Promise.all([...servers].map((s) => s.kill()))
    assert.deepEqual(unhandled, [], 'unhandled rejections while the store was down')
  })
  if (serverMissing !== null) {
    it('needs redis-server on CI', () => assert.fail(serverMissing))
    return
  }

  for (const adapter of adapters) {
    for (const mode of ['fail', 'anonymous'] as const) {
      describe(`${adapter.name}, onStoreError '${mode}'`, () => {
        let ctx: DownCtx
        before(async () => {
          ctx = await startDown(adapter, mode)
        })
        after(async () => {
          await ctx?.close()
        })

        it(`slow Redis (paused): ${mode === 'fail' ? '503' : 'anonymous'} after the command timeout`, async () => {
          ctx.storeErrors.reset()
          ctx.server.pause()
          try {
            const started = Date.now()
            const res = await ctx.user.get('/username')
            const elapsed = Date.now() - started
            if (mode === 'fail') assertUnavailable(res, 'slow Redis')
            else {
              assert.equal(res.status, 200)
              assert.equal(res.body, 'Anonymous')
            }
            assert.ok(elapsed >= 250 && elapsed < 3_000, `answered after ${elapsed} ms`)
            const error = ctx.storeErrors.calls.at(-1)?.error
            assert.ok(error instanceof StoreUnavailableError, 'storeError fired')
            assert.equal(error.reason, 'timeout')
            assertKept(ctx)
          } finally {
            ctx.server.resume()
          }
          assert.ok(
            await eventually(async () => (await ctx.user.get('/username')).body === 'Notch', 5_000),
            'the session works again once Redis answers',
          )
        })

        it('a login attempted while Redis is slow fails whole: 503, no cookie, never logged in', async () => {
          ctx.server.pause()
          const fresh = ctx.browser()
          let res: ClientResponse
          try {
            res = await fresh.get('/login-notch-remember')
          } finally {
            ctx.server.resume()
          }
          assert.equal(res.status, 503, `login while slow: ${res.status} ${res.body}`)
          // The timed-out writes may still land now; the browser must not be logged in by them.
          await sleep(100)
          assert.equal(
            await text(fresh, '/username'),
            'Anonymous',
            `half-logged-in: the 503 set ${JSON.stringify(res.setCookies.map((c) => c.name))} and the late writes made them valid`,
          )
          assertUnavailable(res, 'login while slow')
        })

        it(`Redis down (killed): ${mode === 'fail' ? '503' : 'anonymous'}, storeError, the process lives`, async () => {
          ctx.storeErrors.reset()
          await ctx.server.kill()
          const res = await ctx.user.get('/username')
          const guarded = await ctx.user.get('/protected')
          if (mode === 'fail') {
            assertUnavailable(res, 'Redis down')
            assertUnavailable(guarded, 'Redis down, /protected')
          } else {
            assert.equal(res.status, 200)
            assert.equal(res.body, 'Anonymous')
            assert.deepEqual(
              res.setCookies.map((x) => x.raw),
              [],
              'nothing written',
            )
            assert.equal(guarded.status, 302)
            assert.match(guarded.location ?? '', /^\/login/)
          }
          assert.ok(ctx.storeErrors.count >= 1, 'storeError fired')
          assert.equal(ctx.storeErrors.calls[0]?.operation, 'load')
          assert.ok(ctx.storeErrors.calls[0]?.error instanceof StoreUnavailableError)
          assertKept(ctx)
          // The process lives and serves requests that do not need the store.
          assert.equal(await text(ctx.browser(), '/'), 'Welcome!')
        })

        it('without a storeError listener the failure is logged to stderr', async (t) => {
          assert.ok(!ctx.server.running)
          ctx.storeErrors.off()
          const logged = t.mock.method(console, 'error', () => {})
          try {
            await ctx.user.get('/username')
          } finally {
            logged.mock.restore()
          }
          const lines = logged.mock.calls.map((call) => String(call.arguments[0]))
          assert.ok(
            lines.some((line) => /login-manager: session store load failed/.test(line)),
            `logged: ${JSON.stringify(lines)}`,
          )
        })

        it('a login attempted while Redis is down fails whole: 503, no cookie', async () => {
          assert.ok(!ctx.server.running)
          const fresh = ctx.browser()
          assertUnavailable(await fresh.get('/login-notch-remember'), 'login while down')
          assert.equal(fresh.jar.all().length, 0)
        })

        it('a login attempted with a session cookie while Redis is down fails whole: 503', async () => {
          assert.ok(!ctx.server.running)
          const stale = ctx.browser({ [SESSION]: ctx.cookies[SESSION] as string })
          const res = await stale.get('/login-notch')
          assertUnavailable(res, 'login with a session cookie while down')
        })

        it(`a remember-me login while Redis is down: ${mode === 'fail' ? '503' : 'anonymous'}, the cookie kept`, async () => {
          assert.ok(!ctx.server.running)
          const errors = listen(ctx.manager, 'storeError')
          try {
            const remembered = ctx.browser({ [REMEMBER]: ctx.cookies[REMEMBER] as string })
            const res = await remembered.get('/username')
            const guarded = await remembered.get('/protected')
            if (mode === 'fail') {
              assertUnavailable(res, 'remember-me restore while down')
              assertUnavailable(guarded, 'remember-me restore while down, /protected')
            } else {
              assert.equal(res.status, 200)
              assert.equal(res.body, 'Anonymous')
              assert.equal(guarded.status, 302)
              assert.match(guarded.location ?? '', /^\/login/)
            }
            assert.equal(
              remembered.jar.get(REMEMBER)?.value,
              ctx.cookies[REMEMBER],
              'the remember-me cookie is kept for when the store is back',
            )
            assert.equal(remembered.jar.get(SESSION), undefined, 'no session was made')
            assert.ok(
              errors.calls.some((call) => call.operation === 'remember'),
              JSON.stringify(errors.calls.map((call) => call.operation)),
            )
          } finally {
            errors.off()
          }
        })

        it('Redis back on the same port: the same store and client work again', async () => {
          await ctx.server.start()
          // A new browser per attempt: a failed attempt leaves nothing behind to blur the next.
          let again: TestClient | undefined
          assert.ok(
            await eventually(async () => {
              const attempt = ctx.browser()
              if ((await attempt.get('/login-notch')).status !== 200) return false
              again = attempt
              return true
            }, 10_000),
            'a login works again after Redis restarts',
          )
          assert.ok(again !== undefined)
          assert.equal(await text(again, '/username'), 'Notch')
          assert.equal(await text(again, '/protected'), 'Logged in as: Notch')
          // Redis restarted empty (no persistence): the old session is simply unknown now.
          assert.equal(await text(ctx.user, '/username'), 'Anonymous')
        })
      })
    }
  }
})
