/**
 * The remember-me races and faults of `../support/remember-races.ts` on the real Redis
 * (`REDIS_URL`, default redis://127.0.0.1:6379): RedisStore over ioredis, over node-redis, and
 * over ioredis in cluster mode (which splits cross-slot writes into steps), on two adapter
 * layouts (the scenarios are about the store; every layout runs them on MemoryStore in
 * `../conformance/hardening-remember.test.ts`). Each test writes under its own key prefix,
 * deleted afterwards. The same scenarios run on PostgresStore (`DATABASE_URL`, tables of its own
 * per test in a schema of the run, dropped afterwards), on MySqlStore (`MYSQL_URL`, tables of its
 * own per test, dropped afterwards) and on SqliteStore (a WAL file per test in a temporary
 * directory). Without a server its suites are skipped, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import type { Redis } from 'ioredis'
import type { SessionStore } from 'login-manager'
import { MySqlStore } from 'login-manager/mysql'
import { PostgresStore } from 'login-manager/postgres'
import { RedisStore } from 'login-manager/redis'
import { SqliteStore } from 'login-manager/sqlite'
import { createClient } from 'redis'
import { adapters } from '../conformance/adapters/index.ts'
import { type RaceStore, rememberRaceScenarios } from '../support/remember-races.ts'
import { dropTables, probeMysql, testPool, uniquePrefix } from './mysql-support.ts'
import {
  asPool,
  dropSchema,
  testPool as pgTestPool,
  probePostgres,
  schemaName,
} from './postgres-support.ts'
import { deleteByPrefix, ON_CI, probeRedis, rawClient, scanKeys } from './support.ts'

const RUN = `lmraces-${randomUUID().slice(0, 8)}:`
// Probed before any suite is registered: the runner starts the suites registered before an await.
const unreachable = await probeRedis()
const pgUnreachable = await probePostgres()
const mysqlUnreachable = await probeMysql()
const layouts = adapters.filter((a) => a.name === 'express' || a.name === 'fetch')
const chosen = layouts.length > 0 ? layouts : adapters.slice(0, 1)

if (unreachable !== null) {
  if (ON_CI) {
    describe('Redis for the remember-me race tests', () => {
      it('needs a reachable Redis on CI', () => {
        assert.fail(`${unreachable}. Start Redis or set REDIS_URL; on CI these tests must run.`)
      })
    })
  } else {
    console.log(`# skipping the remember-me race tests on Redis: ${unreachable}`)
  }
} else {
  /** The bookkeeping client (clean-up); the stores use their own. */
  const shared: Redis = rawClient()
  const io: Redis = rawClient()
  const nodeRedis = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
  nodeRedis.on('error', (err: Error) => console.error('# node-redis:', err.message))
  before(async () => {
    await nodeRedis.connect()
  })
  after(async () => {
    try {
      await deleteByPrefix(shared, RUN)
      assert.equal((await scanKeys(shared, RUN)).length, 0, 'keys of this run are left in Redis')
    } finally {
      shared.disconnect()
      io.disconnect()
      await nodeRedis.close()
    }
  })

  let counter = 0
  const clients = {
    ioredis: (prefix: string) => new RedisStore({ client: io, prefix }),
    'node-redis': (prefix: string) => new RedisStore({ client: nodeRedis, prefix }),
    'ioredis, cluster: true': (prefix: string) =>
      new RedisStore({ client: io, prefix, cluster: true }),
  }
  for (const [name, makeStore] of Object.entries(clients)) {
    const make = (): RaceStore => {
      const prefix = `${RUN}${++counter}:`
      let time = Date.now()
      return {
        store: makeStore(prefix),
        now: () => time,
        advance(seconds) {
          time += seconds * 1000
        },
        close: async () => {
          await deleteByPrefix(shared, prefix)
        },
      }
    }
    for (const adapter of chosen) {
      describe(`${adapter.name}: remember-me hardening, RedisStore (${name})`, () => {
        rememberRaceScenarios(adapter, make)
      })
    }
  }
}

// PostgresStore: tables of its own per test, in a schema of the run.
if (pgUnreachable !== null) {
  if (ON_CI) {
    describe('PostgreSQL for the remember-me race tests', () => {
      it('needs a reachable PostgreSQL on CI', () => {
        assert.fail(
          `${pgUnreachable}. Start PostgreSQL or set DATABASE_URL; on CI these tests must run.`,
        )
      })
    })
  } else {
    console.log(`# skipping the remember-me race tests on PostgreSQL: ${pgUnreachable}`)
  }
} else {
  const pool = pgTestPool()
  const schema = schemaName('races')
  after(async () => {
    try {
      await dropSchema(pool, schema)
    } finally {
      await pool.end()
    }
  })
  let tables = 0
  const make = (): RaceStore => {
    // Tables of its own per test (every test logs in the same user, so shares its index key),
    // created before the store's first operation.
    const inner = new PostgresStore({
      pool: asPool(pool),
      schema,
      prefix: `t${++tables}_`,
      cleanupInterval: 0,
    })
    const ready = inner.createSchema()
    const store: SessionStore = {
      get: (key) => ready.then(() => inner.get(key)),
      write: (key, write) => ready.then(() => inner.write(key, write)),
      touch: (key, ttl, fields) => ready.then(() => inner.touch(key, ttl, fields)),
      destroy: (key, index) => ready.then(() => inner.destroy(key, index)),
      members: (index) => ready.then(() => inner.members(index)),
      destroyIndex: (index, keep) => ready.then(() => inner.destroyIndex(index, keep)),
    }
    let time = Date.now()
    return {
      store,
      now: () => time,
      advance(seconds) {
        time += seconds * 1000
      },
      close: async () => {
        await ready.catch(() => {})
        await inner.close()
      },
    }
  }
  for (const adapter of chosen) {
    describe(`${adapter.name}: remember-me hardening, PostgresStore`, () => {
      rememberRaceScenarios(adapter, make)
    })
  }
}

// SqliteStore: a WAL file per test, its tables made as an app's migrations would.
{
  const dir = mkdtempSync(join(tmpdir(), 'lm-races-sqlite-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  let files = 0
  const make = (): RaceStore => {
    const db = new Database(join(dir, `${++files}.db`))
    db.pragma('journal_mode = WAL')
    db.exec(SqliteStore.migration())
    let time = Date.now()
    return {
      store: new SqliteStore({ database: db, now: () => time, cleanupInterval: 0 }),
      now: () => time,
      advance(seconds) {
        time += seconds * 1000
      },
      close: async () => {
        db.close()
      },
    }
  }
  for (const adapter of chosen) {
    describe(`${adapter.name}: remember-me hardening, SqliteStore`, () => {
      rememberRaceScenarios(adapter, make)
    })
  }
}

// MySqlStore: each test on tables of its own.
if (mysqlUnreachable !== null) {
  if (ON_CI) {
    describe('MySQL for the remember-me race tests', () => {
      it('needs a reachable MySQL or MariaDB on CI', () => {
        assert.fail(
          `${mysqlUnreachable}. Start MariaDB or set MYSQL_URL; on CI these tests must run.`,
        )
      })
    })
  } else {
    console.log(`# skipping the remember-me race tests on MySQL: ${mysqlUnreachable}`)
  }
} else {
  const pool = testPool()
  after(async () => {
    await pool.end()
  })
  const make = async (): Promise<RaceStore> => {
    const store = new MySqlStore({ pool, prefix: uniquePrefix('race'), cleanupInterval: 0 })
    await store.createSchema()
    let time = Date.now()
    return {
      store,
      now: () => time,
      advance(seconds) {
        time += seconds * 1000
      },
      close: async () => {
        await store.close()
        await dropTables(pool, store.tables)
      },
    }
  }
  for (const adapter of chosen) {
    describe(`${adapter.name}: remember-me hardening, MySqlStore`, () => {
      rememberRaceScenarios(adapter, make)
    })
  }
}
