/**
 * SqliteStore beyond the conformance kit: its options (each misuse a LoginManagerError saying
 * what to fix), its schema (`migration()`, `createSchema()`, `checkSchema()` naming what is
 * missing, the docs' SQL verbatim), what each operation costs (one primary-key SELECT per read,
 * no table scan in any statement, checked with EXPLAIN QUERY PLAN on every statement it runs),
 * the background cleanup (bounded batches, index rows, failures reported once), `close()`, and
 * the import boundary (`login-manager` never loads better-sqlite3). Files live in a temporary
 * directory, deleted afterwards.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { LoginManagerError, UserMixin } from 'login-manager'
import { StoreUnavailableError as RedisStoreUnavailableError } from 'login-manager/redis'
import { SqliteStore, StoreUnavailableError } from 'login-manager/sqlite'
import { testLogin } from 'login-manager/testing'
import { createManager, createSqliteStore, migrate } from '../../examples/snippets/sqlite-store.ts'
import { eventually } from './support.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'lm-sqlite-unit-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const file = () => join(dir, `unit-${++files}.db`)

const create = (store: SqliteStore, key: string, ttl = 60, index?: string) =>
  store.write(key, { mode: 'create', set: { u: '1' }, ttl, index })

/** A LoginManagerError with this code whose message matches. */
function misuse(code: string, message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof LoginManagerError, `not a LoginManagerError: ${String(error)}`)
    assert.equal(error.code, code)
    assert.match(error.message, message)
    return true
  }
}

describe('SqliteStore options', () => {
  it('refuses the Database itself, both or neither of database and path, and bad paths', () => {
    const db = new Database(':memory:')
    try {
      // @ts-expect-error: a Database where the options go
      assert.throws(() => new SqliteStore(db), misuse('ERR_INVALID_OPTION', /\{ database \}/))
      assert.throws(() => new SqliteStore({}), misuse('ERR_INVALID_OPTION', /got neither/))
      assert.throws(
        () => new SqliteStore({ database: db, path: file() }),
        misuse('ERR_INVALID_OPTION', /got both/),
      )
      // @ts-expect-error: not an options object
      assert.throws(() => new SqliteStore(null), misuse('ERR_INVALID_OPTION', /options object/))
      assert.throws(() => new SqliteStore({ path: '  ' }), misuse('ERR_INVALID_OPTION', /path/))
      assert.throws(
        // @ts-expect-error: not a Database
        () => new SqliteStore({ database: { query: () => {} } }),
        misuse('ERR_INVALID_OPTION', /better-sqlite3 Database/),
      )
      assert.throws(
        () => new SqliteStore({ path: join(dir, 'no', 'such', 'dir', 'x.db') }),
        misuse('ERR_INVALID_OPTION', /could not open path .*directory/),
      )
    } finally {
      db.close()
    }
  })

  it('validates table names and the prefix: SQL identifiers only, quoted in SQL', () => {
    const bad: [object, RegExp][] = [
      [{ prefix: 'my-app_' }, /prefix must be letters, digits and '_'/],
      [{ prefix: 'x"; DROP TABLE users; --' }, /prefix/],
      [{ tables: { records: '1sessions' } }, /tables\.records .* SQL identifier/],
      [{ tables: { index: 'idx space' } }, /tables\.index/],
      [{ tables: { records: 'a'.repeat(101) } }, /at most 100/],
      [{ tables: { records: 'sqlite_sessions' } }, /reserved by SQLite/],
      [{ tables: { records: 'same', index: 'SAME' } }, /must differ/],
      [{ tables: 'sessions' }, /tables must be an object/],
    ]
    for (const [options, message] of bad) {
      assert.throws(
        () => new SqliteStore({ path: ':memory:', ...options }),
        misuse('ERR_INVALID_OPTION', message),
        JSON.stringify(options),
      )
      assert.throws(() => SqliteStore.migration(options), misuse('ERR_INVALID_OPTION', message))
    }
    const store = new SqliteStore({ path: ':memory:', prefix: 'app2_', tables: { index: 'idx' } })
    assert.deepEqual(store.tables, { records: 'app2_login_sessions', index: 'app2_idx' })
    void store.close()
  })

  it('validates timeouts, the cleanup settings, now and onError', () => {
    const bad: [object, RegExp][] = [
      [{ commandTimeout: 0 }, /commandTimeout must be a positive number/],
      [{ commandTimeout: Number.NaN }, /commandTimeout/],
      [{ commandTimeout: '2000' }, /commandTimeout/],
      [{ busyTimeout: -1 }, /busyTimeout/],
      [{ busyTimeout: Number.POSITIVE_INFINITY }, /busyTimeout/],
      [{ cleanupInterval: -1 }, /cleanupInterval must be a number of seconds/],
      [{ cleanupInterval: Number.POSITIVE_INFINITY }, /cleanupInterval/],
      [{ cleanupBatch: 0 }, /cleanupBatch must be a positive integer/],
      [{ cleanupBatch: 1.5 }, /cleanupBatch/],
      [{ now: 12 }, /now must be a function/],
      [{ onError: 'log' }, /onError must be a function/],
    ]
    for (const [options, message] of bad) {
      assert.throws(
        () => new SqliteStore({ path: ':memory:', ...options }),
        misuse('ERR_INVALID_OPTION', message),
        JSON.stringify(options),
      )
    }
    const store = new SqliteStore({ path: ':memory:', commandTimeout: Number.POSITIVE_INFINITY })
    void store.close()
  })

  it('rejects invalid arguments with a RangeError, before touching the database', async () => {
    const store = new SqliteStore({ path: ':memory:' })
    await store.createSchema()
    const key = 'lm:{t}:s:k'
    await assert.rejects(
      store.write(key, { mode: 'create', set: { u: '1' }, ttl: NaN }),
      RangeError,
    )
    // @ts-expect-error: an unknown mode
    await assert.rejects(store.write(key, { mode: 'upsert', set: { u: '1' }, ttl: 1 }), RangeError)
    await assert.rejects(store.write(key, { mode: 'create', set: {}, ttl: 1 }), RangeError)
    await assert.rejects(store.touch(key, Number.POSITIVE_INFINITY), RangeError)
    assert.equal(await store.get(key), null)
    await store.close()
  })

  it('StoreUnavailableError is one class, exported by login-manager/redis and /sqlite', () => {
    assert.equal(StoreUnavailableError, RedisStoreUnavailableError)
  })
})

describe('SqliteStore schema', () => {
  it('the constructor creates nothing; checkSchema names both missing tables, and creates nothing', async () => {
    const path = file()
    const store = new SqliteStore({ path })
    await assert.rejects(
      store.checkSchema(),
      misuse(
        'ERR_STORE_SCHEMA',
        /table "login_sessions" is missing; table "login_session_index" is missing\. Create the tables with await store\.createSchema\(\), or add SqliteStore\.migration\(\)/,
      ),
    )
    await assert.rejects(store.checkSchema(), /ERR_STORE_SCHEMA/)
    const db = new Database(path)
    assert.deepEqual(db.prepare('SELECT name FROM sqlite_schema').all(), [])
    db.close()
    // An operation on the missing tables says what to do too.
    await assert.rejects(store.get('lm:{t}:s:x'), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError)
      assert.equal(error.reason, 'error')
      assert.match(error.message, /no such table: login_sessions.*createSchema/)
      return true
    })
    await store.createSchema()
    await store.checkSchema()
    assert.equal(await store.get('lm:{t}:s:x'), null)
    await store.close()
  })

  it('createSchema is idempotent, and two processes may run it at once', async () => {
    const path = file()
    const stores = [new SqliteStore({ path }), new SqliteStore({ path })]
    await Promise.all(stores.map((store) => store.createSchema()))
    await stores[0]?.createSchema()
    for (const store of stores) await store.checkSchema()
    await Promise.all(stores.map((store) => store.close()))
  })

  it('checkSchema names a missing index, a missing column, a wrong type and a wrong primary key', async () => {
    const db = new Database(':memory:')
    const store = new SqliteStore({ database: db })
    db.exec(`
      CREATE TABLE login_sessions (key TEXT PRIMARY KEY, expires_at TEXT);
      CREATE TABLE login_session_index (index_key TEXT, member_key TEXT, expires_at INTEGER,
        PRIMARY KEY (index_key));
    `)
    await assert.rejects(store.checkSchema(), (error: unknown) => {
      assert.ok(error instanceof LoginManagerError && error.code === 'ERR_STORE_SCHEMA')
      for (const problem of [
        'column "fields" of "login_sessions" is missing',
        'column "expires_at" of "login_sessions" is TEXT, not INTEGER',
        'the index on "login_sessions" ("expires_at") is missing',
        'the primary key of "login_session_index" is (index_key), not (index_key, member_key)',
        'the index on "login_session_index" ("member_key") is missing',
        'the index on "login_session_index" ("expires_at") is missing',
      ]) {
        assert.ok(error.message.includes(problem), `${problem}\nin: ${error.message}`)
      }
      assert.match(error.message, /in the in-memory database/)
      return true
    })
    db.exec('DROP TABLE login_sessions; DROP TABLE login_session_index')
    db.exec(SqliteStore.migration())
    await store.checkSchema()
    db.exec('DROP INDEX login_sessions_expires_at')
    await assert.rejects(
      store.checkSchema(),
      misuse(
        'ERR_STORE_SCHEMA',
        /^ERR_STORE_SCHEMA: SqliteStore schema in the in-memory database: the index on "login_sessions" \("expires_at"\) is missing\. /,
      ),
    )
    await store.close()
    db.close()
  })

  it("an app's own migrations (SqliteStore.migration) satisfy checkSchema; a prefix isolates apps", async () => {
    const db = new Database(file())
    db.pragma('journal_mode = WAL')
    db.exec(SqliteStore.migration({ prefix: 'shop_' }))
    db.exec(SqliteStore.migration({ prefix: 'blog_', tables: { records: 'sessions' } }))
    const shop = new SqliteStore({ database: db, prefix: 'shop_' })
    const blog = new SqliteStore({ database: db, prefix: 'blog_', tables: { records: 'sessions' } })
    await shop.checkSchema()
    await blog.checkSchema()
    await assert.rejects(new SqliteStore({ database: db }).checkSchema(), /ERR_STORE_SCHEMA/)
    const key = 'lm:{u}:s:one'
    assert.equal(await create(shop, key, 60, 'lm:{u}:idx'), true)
    assert.equal(await blog.get(key), null)
    assert.deepEqual(await blog.members('lm:{u}:idx'), [])
    assert.equal(await create(blog, key), true, 'the same key in another app is another record')
    assert.equal(await shop.destroyIndex('lm:{u}:idx'), 1)
    assert.notEqual(await blog.get(key), null)
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all()
    assert.deepEqual(tables, [
      'blog_login_session_index',
      'blog_sessions',
      'shop_login_session_index',
      'shop_login_sessions',
    ])
    db.close()
  })

  it('migration() is the SQL the docs show, verbatim', () => {
    const docs = readFileSync(join(ROOT, 'docs/sql-sessions.md'), 'utf8')
    const sql = SqliteStore.migration()
    assert.ok(docs.includes(`\`\`\`sql\n${sql}\`\`\``), `docs/sql-sessions.md lacks:\n${sql}`)
    assert.match(sql, /CREATE TABLE IF NOT EXISTS "login_sessions"/)
    assert.match(SqliteStore.migration({ prefix: 'x_' }), /"x_login_session_index_member_key"/)
  })
})

describe('SqliteStore costs', () => {
  /** A store on a Database that logs every statement it runs. */
  async function logged() {
    const log: string[] = []
    const db = new Database(':memory:', { verbose: (sql) => log.push(String(sql)) })
    const clock = { now: 1_700_000_000_000 }
    const store = new SqliteStore({ database: db, now: () => clock.now, cleanupInterval: 0 })
    await store.createSchema()
    log.length = 0
    return { db, log, store, clock }
  }

  it('a read is one primary-key SELECT, and writes nothing', async () => {
    const { db, log, store } = await logged()
    const key = 'lm:{t}:s:read'
    await create(store, key)
    log.length = 0
    assert.deepEqual({ ...(await store.get(key)) }, { u: '1' })
    assert.equal(log.length, 1, log.join('\n'))
    assert.match(log[0] as string, /^SELECT "fields" FROM "login_sessions" WHERE "key" = /)
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${log[0]}`).all() as { detail: string }[]
    assert.deepEqual(
      plan.map((row) => row.detail),
      ['SEARCH login_sessions USING INDEX sqlite_autoindex_login_sessions_1 (key=?)'],
    )
    db.close()
  })

  it('no statement of any operation scans a table; the cleanup searches the expires_at indexes', async () => {
    const { db, log, store, clock } = await logged()
    // Enough rows, and statistics, for SQLite to choose plans as it would in production.
    for (let i = 0; i < 300; i++) {
      await create(store, `lm:{u${i % 30}}:s:${i}`, 60 + i, `lm:{u${i % 30}}:idx`)
    }
    db.exec('ANALYZE')
    log.length = 0
    const [index, a, b] = ['lm:{t}:idx', 'lm:{t}:s:a', 'lm:{t}:s:b']
    await create(store, a, 60, index)
    const rotation = { index, replaces: a, replacesIndex: index, requires: a }
    await store.write(b, { mode: 'create', set: { u: '1' }, ttl: 60, ...rotation })
    await store.write(b, {
      mode: 'update',
      set: { h: '2' },
      remove: ['x'],
      ttl: 60,
      index,
      expect: { u: '1' },
    })
    await store.touch(b, 60, { t: '1' })
    await store.get(b)
    await store.members(index)
    await store.destroyIndex(index, [a])
    await store.destroy(b, index)
    clock.now += 120_000
    assert.ok((await store.cleanup()) > 0)
    const seen = new Set(log.filter((sql) => !/^(BEGIN|COMMIT|ROLLBACK)/.test(sql)))
    assert.ok(seen.size >= 15, `statements run: ${seen.size}`)
    const searches: string[] = []
    for (const sql of seen) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]
      for (const { detail } of plan) {
        assert.ok(
          !/^SCAN /.test(detail) || /VIRTUAL TABLE/.test(detail),
          `a table scan: ${detail}\nin: ${sql}`,
        )
        searches.push(detail)
      }
    }
    assert.ok(
      searches.includes(
        'SEARCH login_sessions USING INDEX login_sessions_expires_at (expires_at<?)',
      ),
    )
    assert.ok(
      searches.includes(
        'SEARCH login_session_index USING COVERING INDEX login_session_index_expires_at (expires_at<?)',
      ),
    )
    db.close()
  })
})

describe('SqliteStore cleanup', () => {
  it('deletes expired records and their index rows in batches, and nothing alive', async () => {
    const clock = { now: 1_700_000_000_000 }
    const path = file()
    const store = new SqliteStore({
      path,
      now: () => clock.now,
      cleanupInterval: 0,
      cleanupBatch: 100,
    })
    await store.createSchema()
    for (let i = 0; i < 250; i++) await create(store, `lm:{old}:s:${i}`, 10, 'lm:{old}:idx')
    for (let i = 0; i < 5; i++) await create(store, `lm:{new}:s:${i}`, 1000, 'lm:{new}:idx')
    // Touched past its first ttl: its index row moved with it.
    await create(store, 'lm:{touched}:s:0', 10, 'lm:{touched}:idx')
    assert.equal(await store.touch('lm:{touched}:s:0', 1000), true)
    // Shortened: its index row has the longer expiry, and goes with the record all the same.
    await create(store, 'lm:{short}:s:0', 1000, 'lm:{short}:idx')
    await store.write('lm:{short}:s:0', { mode: 'update', set: { t: '1' }, ttl: 10 })
    clock.now += 60_000
    assert.equal(await store.cleanup(), 251)
    assert.equal(await store.cleanup(), 0)
    const db = new Database(path, { readonly: true })
    const count = (sql: string) => db.prepare(sql).pluck().get()
    assert.equal(count('SELECT count(*) FROM login_sessions'), 6)
    assert.equal(
      count("SELECT count(*) FROM login_session_index WHERE index_key = 'lm:{old}:idx'"),
      0,
    )
    assert.equal(
      count("SELECT count(*) FROM login_session_index WHERE index_key = 'lm:{short}:idx'"),
      0,
    )
    assert.deepEqual(await store.members('lm:{touched}:idx'), ['lm:{touched}:s:0'])
    assert.equal((await store.members('lm:{new}:idx')).length, 5)
    clock.now += 1_000_000
    assert.equal(await store.cleanup(), 6)
    assert.equal(count('SELECT count(*) FROM login_session_index'), 0)
    db.close()
    await store.close()
  })

  it('runs in the background every cleanupInterval, and stops on close', async () => {
    const clock = { now: 1_700_000_000_000 }
    const path = file()
    const store = new SqliteStore({ path, now: () => clock.now, cleanupInterval: 0.05 })
    await store.createSchema()
    await create(store, 'lm:{bg}:s:0', 1)
    clock.now += 5_000
    const db = new Database(path, { readonly: true })
    const rows = () => db.prepare('SELECT count(*) FROM login_sessions').pluck().get()
    assert.ok(await eventually(async () => rows() === 0, 5_000), 'the sweep ran')
    await store.close()
    db.close()
  })

  it('a failing sweep goes to onError, or to one console warning per outage', async (t) => {
    const errors: unknown[] = []
    const db = new Database(':memory:')
    const hooked = new SqliteStore({
      database: db,
      cleanupInterval: 0.02,
      onError: (e) => errors.push(e),
    })
    assert.ok(await eventually(async () => errors.length >= 2, 5_000), 'onError was called')
    assert.ok(errors[0] instanceof StoreUnavailableError)
    assert.match(String((errors[0] as Error).message), /SqliteStore\.cleanup .*no such table/)
    await hooked.close()

    const warn = t.mock.method(console, 'warn', () => {})
    const quiet = new SqliteStore({ database: db, cleanupInterval: 0.02 })
    try {
      assert.ok(await eventually(async () => warn.mock.callCount() >= 1, 5_000))
      const before = warn.mock.callCount()
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.equal(warn.mock.callCount(), before, 'one warning per outage, not one per sweep')
      assert.match(String(warn.mock.calls[0]?.arguments[0]), /SqliteStore cleanup failed/)
      await quiet.createSchema()
      await new Promise((resolve) => setTimeout(resolve, 100))
      db.exec('DROP TABLE login_sessions')
      assert.ok(
        await eventually(async () => warn.mock.callCount() > before, 5_000),
        'a new outage warns again',
      )
    } finally {
      await quiet.close()
      warn.mock.restore()
      db.close()
    }
  })

  it('the timer does not keep a process alive', () => {
    const script = `
      import('login-manager/sqlite').then(async ({ SqliteStore }) => {
        const store = new SqliteStore({ path: ':memory:', cleanupInterval: 60 })
        await store.createSchema()
        console.log('ready')
      })`
    const result = spawnSync(
      process.execPath,
      ['--conditions=login-manager-source', '--import', 'tsx', '-e', script],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    )
    assert.equal(result.signal, null, 'the process had to be killed: the timer kept it alive')
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stdout.trim(), 'ready')
  })
})

describe('SqliteStore close', () => {
  it('closes a database it opened; later operations reject; close is idempotent', async () => {
    const store = new SqliteStore({ path: file() })
    await store.createSchema()
    await create(store, 'lm:{c}:s:0')
    await store.close()
    await store.close()
    for (const operation of [
      store.get('lm:{c}:s:0'),
      create(store, 'lm:{c}:s:1'),
      store.touch('lm:{c}:s:0', 10),
      store.destroy('lm:{c}:s:0'),
      store.members('lm:{c}:idx'),
      store.destroyIndex('lm:{c}:idx'),
      store.cleanup(),
    ]) {
      await assert.rejects(operation, (error: unknown) => {
        assert.ok(error instanceof StoreUnavailableError)
        assert.match(error.message, /the store is closed/)
        return true
      })
    }
  })

  it("leaves the app's own Database open; if the app closes it, operations reject", async () => {
    const db = new Database(':memory:')
    const store = new SqliteStore({ database: db })
    await store.createSchema()
    await store.close()
    assert.ok(db.open)
    const other = new SqliteStore({ database: db })
    assert.equal(await other.get('lm:{c}:s:0'), null)
    db.close()
    await assert.rejects(other.get('lm:{c}:s:0'), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError)
      assert.match(error.message, /not open/)
      return true
    })
    await other.close()
  })
})

describe('import boundary', () => {
  it('login-manager and its other subpaths never load better-sqlite3; login-manager/sqlite loads it only to open a path', () => {
    const script = `
      const { createRequire } = require('node:module')
      const loaded = () => Object.keys(require.cache).some((f) => f.includes('/better-sqlite3/'))
      Promise.all(['login-manager', 'login-manager/express', 'login-manager/redis', 'login-manager/testing']
        .map((m) => import(m)))
        .then(async () => {
          const before = loaded()
          const { SqliteStore } = await import('login-manager/sqlite')
          const imported = loaded()
          const store = new SqliteStore({ path: ':memory:' })
          await store.close()
          console.log(JSON.stringify({ before, imported, opened: loaded() }))
        })`
    const result = spawnSync(
      process.execPath,
      ['--conditions=login-manager-source', '--import', 'tsx', '-e', script],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    )
    assert.equal(result.status, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout.trim()), {
      before: false,
      imported: false,
      opened: true,
    })
  })
})

describe('the docs snippet (examples/snippets/sqlite-store.ts)', () => {
  class Member extends UserMixin {
    constructor(readonly id: string) {
      super()
    }
  }

  it('refuses to start before the migration; after it, logins are kept in the file', async () => {
    const path = file()
    await assert.rejects(
      createSqliteStore(path),
      misuse('ERR_STORE_SCHEMA', /myapp_login_sessions/),
    )
    const db = new Database(path)
    migrate(db)
    db.close()
    const { store, close } = await createSqliteStore(path)
    const previous = process.env.SESSION_SECRET
    process.env.SESSION_SECRET = 'sqlite-snippet-secret-Vb8Kq3Zm6Tn1Wx4Rc7Lp2'
    try {
      const alice = new Member('alice')
      const manager = createManager(store, (id) => (id === 'alice' ? alice : null))
      const cookie = await testLogin(manager, alice)
      assert.match(cookie, /__Host-session=/)
      const sessions = await manager.listSessions('alice')
      assert.equal(sessions.length, 1)
      assert.equal(await manager.logoutEverywhere('alice'), 1)
    } finally {
      if (previous === undefined) delete process.env.SESSION_SECRET
      else process.env.SESSION_SECRET = previous
      await close()
    }
  })
})
