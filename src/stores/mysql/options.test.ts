import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../../shared/errors.ts'
import type { MySqlPoolLike } from './options.ts'
import { MySqlStore } from './store.ts'

/** A pool that must never be used: these tests need no server. */
const pool: MySqlPoolLike = {
  getConnection: () => Promise.reject(new Error('no server in this test')),
}

function rejects(options: unknown, message: RegExp): void {
  assert.throws(
    () => new MySqlStore(options as never),
    (error: unknown) => {
      assert.ok(error instanceof LoginManagerError, String(error))
      assert.equal(error.code, 'ERR_INVALID_OPTION')
      assert.match(error.message, /^ERR_INVALID_OPTION: MySqlStore: /)
      assert.match(error.message, message)
      return true
    },
  )
}

describe('MySqlStore options', () => {
  it('takes an options object, and says so when given the pool itself', () => {
    rejects(undefined, /expected an options object, got undefined/)
    rejects(null, /got null/)
    rejects(pool, /write new MySqlStore\(\{ pool \}\), not new MySqlStore\(pool\)/)
  })

  it('needs exactly one of pool and uri', () => {
    rejects({}, /the app's mysql2 pool \(\{ pool \}\) or a URL/)
    rejects({ pool, uri: 'mysql://localhost/db' }, /either a pool or a uri, not both/)
    rejects({ uri: 'postgres://localhost/db' }, /uri must be a mysql:\/\/ URL/)
    rejects({ pool: {} }, /pool must be a mysql2 pool/)
  })

  it('validates table names and the prefix: identifier characters, at most 64', () => {
    rejects({ pool, prefix: 'my-app' }, /prefix may hold letters, digits and _ only/)
    rejects({ pool, prefix: 'x`; DROP TABLE users; --' }, /prefix may hold/)
    rejects({ pool, tables: { records: 'a b' } }, /records table name/)
    rejects({ pool, tables: { index: '' } }, /index table name/)
    rejects({ pool, prefix: 'p'.repeat(60) }, /1 to 64 letters/)
    rejects({ pool, tables: { records: 'same', index: 'SAME' } }, /two names/)
    rejects({ pool, tables: 'sessions' }, /tables must be an object/)
  })

  it('validates the numbers and the hook', () => {
    rejects({ pool, commandTimeout: 0 }, /commandTimeout must be a positive number/)
    rejects({ pool, commandTimeout: Number.NaN }, /commandTimeout/)
    rejects({ pool, cleanupInterval: -1 }, /cleanupInterval must be a number of seconds/)
    rejects({ pool, cleanupInterval: Number.POSITIVE_INFINITY }, /cleanupInterval/)
    rejects({ pool, cleanupBatch: 0 }, /cleanupBatch must be a whole number/)
    rejects({ pool, cleanupBatch: 1.5 }, /cleanupBatch/)
    rejects({ pool, onError: 'log' }, /onError must be a function/)
  })

  it('names the tables with the prefix, defaults first', async () => {
    const plain = new MySqlStore({ pool, cleanupInterval: 0 })
    assert.deepEqual(plain.tables, { records: 'login_sessions', index: 'login_session_index' })
    const prefixed = new MySqlStore({
      pool,
      prefix: 'app_',
      tables: { index: 'idx' },
      cleanupInterval: 0,
    })
    assert.deepEqual(prefixed.tables, { records: 'app_login_sessions', index: 'app_idx' })
    await plain.close()
    await prefixed.close()
  })

  it('uses the promise side of a mysql2 callback pool', async () => {
    let asked = 0
    const callbackPool = {
      getConnection(callback: () => void) {
        return callback
      },
      promise(): MySqlPoolLike {
        asked++
        return pool
      },
    }
    const store = new MySqlStore({ pool: callbackPool, cleanupInterval: 0, commandTimeout: 200 })
    assert.equal(asked, 1)
    await assert.rejects(store.get('lm:{x}:s:1'), /no server in this test/)
    await store.close()
  })
})

describe('MySqlStore.migration', () => {
  it('is the SQL of both tables, names quoted, keys binary, JSON fields, expiry indexes', () => {
    const sql = MySqlStore.migration({ prefix: 'app_' })
    assert.match(
      sql,
      /^CREATE TABLE IF NOT EXISTS `app_login_sessions` \(\n {2}`key` VARBINARY\(255\) NOT NULL,\n {2}`fields` JSON NOT NULL,\n {2}`expires_at` BIGINT NOT NULL,\n {2}PRIMARY KEY \(`key`\),\n {2}INDEX `by_expiry` \(`expires_at`\)\n\) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\nCREATE TABLE IF NOT EXISTS `app_login_session_index`/,
    )
    assert.match(
      sql,
      /PRIMARY KEY \(`index_key`, `member_key`\),\n {2}INDEX `by_member` \(`member_key`\),\n {2}INDEX `by_expiry` \(`expires_at`\)/,
    )
    assert.equal(sql.match(/;/g)?.length, 2)
    assert.equal(MySqlStore.migration(), MySqlStore.migration({ tables: {} }))
    assert.match(MySqlStore.migration({ tables: { records: 'r' } }), /`r` \(/)
  })

  it('is the SQL docs/sql-sessions.md shows, verbatim', () => {
    const page = readFileSync(new URL('../../../docs/sql-sessions.md', import.meta.url), 'utf8')
    assert.ok(
      page.includes(`\`\`\`sql\n${MySqlStore.migration()}\`\`\``),
      'the documented schema is stale',
    )
  })

  it('refuses the names the constructor refuses', () => {
    assert.throws(() => MySqlStore.migration({ prefix: 'a-b' }), LoginManagerError)
  })
})
