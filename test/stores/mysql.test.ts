/**
 * MySqlStore on the real server (`MYSQL_URL`, default mysql://root@127.0.0.1:3306/test; the
 * machine runs MariaDB): the conformance kit over the app's pool, over a pool the store makes
 * from a URL, and over a callback pool without the FOUND_ROWS flag; the schema (created,
 * migrated, checked, every wrong shape named); the expiry sweep (bounded batches, the timer,
 * failures reported once); and what the SQL holds beyond the kit (keys byte for byte, index
 * entries outliving their records, one statement per read). Every run has its own table prefix;
 * its tables are dropped afterwards. Without the server the suites are skipped, except on CI.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { LoginManagerError } from 'login-manager'
import {
  type MySqlConnectionLike,
  type MySqlPoolLike,
  MySqlStore,
  StoreUnavailableError,
} from 'login-manager/mysql'
import mysql from 'mysql2'
import { runStoreConformance } from '../../src/stores/conformance.ts'
import {
  dropTables,
  MYSQL_URL,
  probeMysql,
  tablesWithPrefix,
  testPool,
  uniquePrefix,
} from './mysql-support.ts'
import { eventually, sleep } from './support.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const RUN = uniquePrefix('t')
const unreachable = await probeMysql()

/** A pool that records every statement its connections run. */
function spying(pool: MySqlPoolLike): { pool: MySqlPoolLike; statements: string[] } {
  const statements: string[] = []
  return {
    statements,
    pool: {
      async getConnection(): Promise<MySqlConnectionLike> {
        const connection = await pool.getConnection()
        return {
          execute(sql, values) {
            statements.push(sql)
            return connection.execute(sql, values)
          },
          query(sql) {
            statements.push(sql)
            return connection.query(sql)
          },
          release: () => connection.release(),
          destroy: () => connection.destroy(),
        }
      },
    },
  }
}

async function assertSchemaError(promise: Promise<unknown>, ...parts: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LoginManagerError, `expected a LoginManagerError, got ${error}`)
    assert.equal(error.code, 'ERR_STORE_SCHEMA')
    for (const part of parts) assert.match(error.message, part)
    return true
  })
}

if (unreachable !== null) {
  if (process.env.CI === 'true') {
    describe('MySqlStore on a real server', () => {
      it('needs a reachable MySQL or MariaDB on CI', () => {
        assert.fail(`${unreachable}. Start MariaDB or set MYSQL_URL; on CI these tests must run.`)
      })
    })
  } else {
    console.log(`# skipping the MySqlStore tests: ${unreachable}`)
  }
} else {
  const pool = testPool()
  after(async () => {
    try {
      assert.deepEqual(await tablesWithPrefix(pool, RUN), [], 'tables of this run are left')
    } finally {
      await pool.end()
    }
  })

  // ---------------------------------------------------------------- the conformance kit

  runStoreConformance(
    "MySqlStore (the app's pool)",
    async () => {
      const store = new MySqlStore({ pool, prefix: `${RUN}app_` })
      await store.createSchema()
      return store
    },
    {
      async cleanup(store) {
        await (store as MySqlStore).close()
        await dropTables(pool, (store as MySqlStore).tables)
      },
    },
  )

  runStoreConformance(
    'MySqlStore (its own pool, from uri)',
    async () => {
      const store = new MySqlStore({ uri: MYSQL_URL, prefix: `${RUN}uri_` })
      await store.createSchema()
      return store
    },
    {
      async cleanup(store) {
        await (store as MySqlStore).close()
        await dropTables(pool, (store as MySqlStore).tables)
      },
    },
  )

  {
    // Without FOUND_ROWS the server counts changed rows, not matched ones: an update that sets
    // what is already there must still count as done.
    const callbackPool = mysql.createPool({ uri: MYSQL_URL, flags: ['-FOUND_ROWS'] })
    runStoreConformance(
      'MySqlStore (a callback pool, without FOUND_ROWS)',
      async () => {
        const store = new MySqlStore({ pool: callbackPool, prefix: `${RUN}cb_` })
        await store.createSchema()
        return store
      },
      {
        async cleanup(store) {
          await (store as MySqlStore).close()
          await dropTables(pool, (store as MySqlStore).tables)
          await callbackPool.promise().end()
        },
      },
    )
  }

  // ---------------------------------------------------------------- schema

  describe('MySqlStore schema', () => {
    const prefix = `${RUN}schema_`
    const made: MySqlStore[] = []
    const store = (name: string, more: { cleanupInterval?: number } = {}) => {
      const s = new MySqlStore({ pool, prefix: `${prefix}${name}_`, cleanupInterval: 0, ...more })
      made.push(s)
      return s
    }
    after(async () => {
      for (const s of made) {
        await s.close()
        await dropTables(pool, s.tables)
      }
    })

    it('createSchema creates both tables, twice without harm, and checkSchema accepts them', async () => {
      const s = store('create')
      await s.createSchema()
      await s.createSchema()
      await s.checkSchema()
      assert.deepEqual((await tablesWithPrefix(pool, `${prefix}create_`)).sort(), [
        `${prefix}create_login_session_index`,
        `${prefix}create_login_sessions`,
      ])
    })

    it('migration() is the SQL createSchema runs: applied by hand, it passes checkSchema', async () => {
      const s = store('migration')
      const sql = MySqlStore.migration({ prefix: `${prefix}migration_` })
      for (const statement of sql.split(/;\s*$/m).filter((text) => text.trim() !== '')) {
        await pool.query(statement)
      }
      await s.checkSchema()
      assert.match(sql, /CREATE TABLE IF NOT EXISTS `lm_t_\w+_migration_login_sessions`/)
    })

    it('custom table names, with the prefix in front of both', async () => {
      const s = new MySqlStore({
        pool,
        prefix: `${prefix}custom_`,
        tables: { records: 'sess', index: 'sess_idx' },
        cleanupInterval: 0,
      })
      made.push(s)
      assert.deepEqual(s.tables, {
        records: `${prefix}custom_sess`,
        index: `${prefix}custom_sess_idx`,
      })
      await s.createSchema()
      assert.equal(await s.write('lm:{x}:s:1', { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
      const [rows] = await pool.query(`SELECT COUNT(*) AS n FROM \`${prefix}custom_sess\``)
      assert.equal((rows as { n: number }[])[0]?.n, 1)
    })

    it('checkSchema names both missing tables, and says how to create them', async () => {
      await assertSchemaError(
        store('missing').checkSchema(),
        /table `lm_t_\w+_missing_login_sessions` does not exist in database `test`/,
        /table `lm_t_\w+_missing_login_session_index` does not exist/,
        /MySqlStore\.migration\(\)/,
        /createSchema\(\)/,
      )
      assert.deepEqual(await tablesWithPrefix(pool, `${prefix}missing_`), [], 'it created nothing')
    })

    it('checkSchema names a key column that does not compare byte for byte', async () => {
      const s = store('varchar')
      await s.createSchema()
      await pool.query(
        `ALTER TABLE \`${s.tables.records}\` MODIFY \`key\` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL`,
      )
      await assertSchemaError(
        s.checkSchema(),
        /column `lm_t_\w+_varchar_login_sessions`\.`key` is varchar, it must be `key` VARBINARY\(255\) NOT NULL/,
      )
    })

    it('checkSchema names a missing column, a missing index, a wrong primary key and a non-InnoDB engine', async () => {
      const s = store('broken')
      await s.createSchema()
      const { records, index } = s.tables
      await pool.query(`ALTER TABLE \`${records}\` DROP INDEX \`by_expiry\``)
      await pool.query(`ALTER TABLE \`${index}\` DROP COLUMN \`expires_at\``)
      await pool.query(
        `ALTER TABLE \`${index}\` DROP PRIMARY KEY, ADD PRIMARY KEY (\`member_key\`, \`index_key\`)`,
      )
      await pool.query(`ALTER TABLE \`${index}\` ENGINE=MyISAM`)
      await assertSchemaError(
        s.checkSchema(),
        /table `\w+_broken_login_sessions` has no index on `expires_at` \(for the expiry sweep\): CREATE INDEX `by_expiry`/,
        /column `\w+_broken_login_session_index`\.`expires_at` is missing: ALTER TABLE `\w+` ADD `expires_at` BIGINT NOT NULL/,
        /needs PRIMARY KEY \(`index_key`, `member_key`\), not \(`member_key`, `index_key`\)/,
        /uses the MyISAM engine: it needs InnoDB/,
      )
    })

    it('createSchema changes no existing table: it reports one of another shape', async () => {
      const s = store('shape')
      await pool.query(
        `CREATE TABLE \`${s.tables.records}\` (\`key\` VARBINARY(255) PRIMARY KEY, \`fields\` TEXT NOT NULL, \`expires_at\` BIGINT NOT NULL, INDEX (\`expires_at\`)) ENGINE=InnoDB`,
      )
      await assertSchemaError(
        s.createSchema(),
        /`fields` is text, it must be `fields` JSON NOT NULL/,
      )
      await s.checkSchema().catch(() => {})
      const [rows] = await pool.query(`SHOW COLUMNS FROM \`${s.tables.records}\` LIKE 'fields'`)
      assert.match(String((rows as { Type: string }[])[0]?.Type), /^text$/i, 'left as it was')
    })

    it('a pool without a current database is named at the check', async () => {
      const url = new URL(MYSQL_URL)
      url.pathname = '/'
      const noDatabase = testPool(url.toString())
      try {
        const s = new MySqlStore({ pool: noDatabase, cleanupInterval: 0 })
        await assertSchemaError(s.checkSchema(), /no current database/)
      } finally {
        await noDatabase.end()
      }
    })

    it('without its tables, an operation rejects with StoreUnavailableError saying what to run', async () => {
      await assert.rejects(store('absent').get('lm:{x}:s:1'), (error: unknown) => {
        assert.ok(error instanceof StoreUnavailableError)
        assert.equal(error.reason, 'error')
        assert.match(error.message, /doesn't exist.*MySqlStore\.migration\(\).*checkSchema\(\)/)
        return true
      })
    })
  })

  // ---------------------------------------------------------------- the sweep

  describe('MySqlStore expiry sweep', () => {
    const prefix = `${RUN}sweep_`
    const made: MySqlStore[] = []
    after(async () => {
      for (const s of made) {
        await s.close()
        await dropTables(pool, s.tables)
      }
    })

    /** `expired` records (each indexed) already past their expiry, and `live` ones. */
    async function seed(s: MySqlStore, expired: number, live: number): Promise<void> {
      const { records, index } = s.tables
      for (let i = 0; i < expired + live; i++) {
        const key = `lm:{sweep}:s:${i}`
        const at = i < expired ? 'expires_at - 60000' : 'expires_at'
        await s.write(key, {
          mode: 'create',
          set: { i: String(i) },
          ttl: 60,
          index: 'lm:{sweep}:idx',
        })
        if (i < expired) {
          await pool.query(`UPDATE \`${records}\` SET expires_at = ${at} WHERE \`key\` = ?`, [key])
          await pool.query(`UPDATE \`${index}\` SET expires_at = ${at} WHERE member_key = ?`, [key])
        }
      }
    }

    async function count(table: string): Promise<number> {
      const [rows] = await pool.query(`SELECT COUNT(*) AS n FROM \`${table}\``)
      return Number((rows as { n: number }[])[0]?.n)
    }

    it('cleanup() deletes expired records and index entries in statements of cleanupBatch rows', async () => {
      const spy = spying(pool)
      const s = new MySqlStore({
        pool: spy.pool,
        prefix: `${prefix}batch_`,
        cleanupInterval: 0,
        cleanupBatch: 10,
      })
      made.push(s)
      await s.createSchema()
      await seed(s, 25, 3)
      spy.statements.length = 0
      assert.equal(await s.cleanup(), 25)
      assert.equal(await count(s.tables.records), 3)
      assert.equal(await count(s.tables.index), 3)
      const sweeps = spy.statements.filter((sql) =>
        /DELETE FROM .* ORDER BY expires_at LIMIT 10$/.test(sql),
      )
      // 10 + 10 + 5 records, then 10 + 10 + 5 index entries: each statement bounded.
      assert.equal(sweeps.length, 6, spy.statements.join('\n'))
      assert.deepEqual((await s.members('lm:{sweep}:idx')).length, 3)
      assert.equal(await s.cleanup(), 0)
    })

    it('the background sweep runs every cleanupInterval seconds, and stops on close()', async () => {
      const spy = spying(pool)
      const s = new MySqlStore({ pool: spy.pool, prefix: `${prefix}timer_`, cleanupInterval: 0.2 })
      made.push(s)
      await s.createSchema()
      await seed(s, 4, 1)
      assert.ok(
        await eventually(async () => (await count(s.tables.records)) === 1, 10_000),
        'the expired records were swept in the background',
      )
      await s.close()
      spy.statements.length = 0
      await sleep(600)
      assert.deepEqual(spy.statements, [], 'no sweep after close()')
    })

    it('a failed background sweep goes to onError; without it, one console warning per outage', async (t) => {
      const errors: unknown[] = []
      const hooked = new MySqlStore({
        pool,
        prefix: `${prefix}nohook_`,
        cleanupInterval: 0.1,
        onError: (error) => errors.push(error),
      })
      made.push(hooked)
      assert.ok(await eventually(async () => errors.length >= 2, 10_000))
      assert.ok(errors[0] instanceof StoreUnavailableError, String(errors[0]))
      await hooked.close()

      const warned = t.mock.method(console, 'warn', () => {})
      const spy = spying(pool)
      const sweeps = () => spy.statements.filter((sql) => / LIMIT \d+$/.test(sql)).length
      const quiet = new MySqlStore({
        pool: spy.pool,
        prefix: `${prefix}quiet_`,
        cleanupInterval: 0.1,
      })
      made.push(quiet)
      try {
        // Three failed sweeps (the tables do not exist yet), one warning.
        assert.ok(await eventually(async () => sweeps() >= 3, 10_000))
        assert.equal(warned.mock.callCount(), 1, 'warned once for the outage')
        assert.match(String(warned.mock.calls[0]?.arguments[0]), /MySqlStore expiry sweep failed/)
        // A sweep that works ends the outage; the next failure is a new one.
        await quiet.createSchema()
        await quiet.cleanup().catch(() => {}) // perhaps joins a sweep started before the tables
        await quiet.cleanup()
        await dropTables(pool, quiet.tables)
        assert.ok(await eventually(async () => warned.mock.callCount() === 2, 5_000))
      } finally {
        await quiet.close()
        warned.mock.restore()
      }
    })

    it('the sweep timer never keeps the process alive', () => {
      const script = `
        import { MySqlStore } from 'login-manager/mysql'
        new MySqlStore({ uri: ${JSON.stringify(MYSQL_URL)}, cleanupInterval: 3600 })
        console.log('constructed')
      `
      const result = spawnSync(
        process.execPath,
        [
          '--conditions=login-manager-source',
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      )
      assert.equal(result.signal, null, `still running after 30 s: ${result.stderr}`)
      assert.equal(result.status, 0, result.stderr)
      assert.match(result.stdout, /constructed/)
    })
  })

  // ---------------------------------------------------------------- beyond the kit

  describe('MySqlStore rows and statements', () => {
    let store: MySqlStore
    let spy: ReturnType<typeof spying>
    before(async () => {
      spy = spying(pool)
      store = new MySqlStore({ pool: spy.pool, prefix: `${RUN}rows_`, cleanupInterval: 0 })
      await store.createSchema()
    })
    after(async () => {
      await store.close()
      await dropTables(pool, store.tables)
    })

    it('a read is one primary-key SELECT; a touch is one UPDATE; no transaction for either', async () => {
      const key = 'lm:{one}:s:read'
      await store.write(key, { mode: 'create', set: { u: '1' }, ttl: 60 })
      spy.statements.length = 0
      assert.deepEqual({ ...(await store.get(key)) }, { u: '1' })
      assert.equal(spy.statements.length, 1, spy.statements.join('\n'))
      assert.match(
        spy.statements[0] as string,
        /SELECT fields FROM `\w+` WHERE `key` = \? AND expires_at > /,
      )
      spy.statements.length = 0
      assert.equal(await store.touch(key, 60, { t: '2' }), true)
      assert.equal(spy.statements.length, 1, spy.statements.join('\n'))
      assert.match(spy.statements[0] as string, /UPDATE `\w+` r LEFT JOIN/)
    })

    it('keys compare byte for byte: case and trailing spaces make other keys', async () => {
      const keys = ['lm:{bytes}:s:Abc', 'lm:{bytes}:s:abc', 'lm:{bytes}:s:abc ', 'lm:{bytes}:s:ábc']
      for (const [i, key] of keys.entries()) {
        assert.equal(
          await store.write(key, { mode: 'create', set: { i: String(i) }, ttl: 60 }),
          true,
        )
      }
      for (const [i, key] of keys.entries()) {
        assert.deepEqual({ ...(await store.get(key)) }, { i: String(i) }, JSON.stringify(key))
      }
      assert.equal(await store.get('lm:{bytes}:s:ABC'), null)
    })

    it("a touched record's index entry outlives it, through the sweep", async () => {
      const key = 'lm:{outlive}:s:1'
      const index = 'lm:{outlive}:idx'
      await store.write(key, { mode: 'create', set: { u: '1' }, ttl: 1, index })
      assert.equal(await store.touch(key, 30), true)
      await sleep(1200)
      await store.cleanup()
      assert.deepEqual(await store.members(index), [key], 'the index still lists the live record')
      assert.equal(await store.destroyIndex(index), 1)
    })

    it('expect and per-field writes with field names a JSON path must quote', async () => {
      const key = 'lm:{paths}:s:1'
      const names = ['q"u\\o', 'a.b', '$', '', 'sp ace', 'ünï', '[0]', '*', 'line\nbreak']
      const set = Object.fromEntries(names.map((name, i) => [name, `v${i}`]))
      await store.write(key, { mode: 'create', set, ttl: 60 })
      for (const [i, name] of names.entries()) {
        const expect = { [name]: `v${i}` }
        assert.equal(
          await store.write(key, { mode: 'update', set: { [name]: `w${i}` }, ttl: 60, expect }),
          true,
          JSON.stringify(name),
        )
        assert.equal(
          await store.write(key, { mode: 'update', set: { [name]: 'x' }, ttl: 60, expect }),
          false,
          `${JSON.stringify(name)}: the value read no longer holds`,
        )
      }
      const read = await store.get(key)
      for (const [i, name] of names.entries()) assert.equal(read?.[name], `w${i}`)
      assert.equal(
        await store.write(key, { mode: 'update', set: {}, ttl: 60, expect: { 'a.b': 'W1' } }),
        false,
        'compared case-sensitively',
      )
      assert.equal(
        await store.write(key, { mode: 'update', set: {}, ttl: 60, expect: { 'a.b': 'w1 ' } }),
        false,
        'trailing spaces count',
      )
    })

    it('an update that removes every field deletes the record and its index entries', async () => {
      const key = 'lm:{empty}:s:1'
      const index = 'lm:{empty}:idx'
      await store.write(key, { mode: 'create', set: { a: '1', b: '2' }, ttl: 60, index })
      assert.equal(
        await store.write(key, { mode: 'update', set: {}, remove: ['a', 'b'], ttl: 60, index }),
        true,
      )
      assert.equal(await store.get(key), null)
      const [rows] = await pool.query(
        `SELECT COUNT(*) AS n FROM \`${store.tables.index}\` WHERE member_key = ?`,
        [key],
      )
      assert.equal(Number((rows as { n: number }[])[0]?.n), 0)
    })

    it('values are stored as JSON text the database can read, one object per record', async () => {
      const key = 'lm:{json}:s:1'
      await store.write(key, { mode: 'create', set: { a: '1', q: 'it\'s "x"' }, ttl: 60 })
      await store.write(key, { mode: 'update', set: { b: '2' }, remove: ['a'], ttl: 60 })
      const [rows] = await pool.query(
        `SELECT JSON_UNQUOTE(JSON_EXTRACT(fields, '$.q')) AS q, JSON_LENGTH(fields) AS n, JSON_TYPE(fields) AS type FROM \`${store.tables.records}\` WHERE \`key\` = ?`,
        [key],
      )
      assert.deepEqual({ ...(rows as object[])[0] }, { q: 'it\'s "x"', n: 2, type: 'OBJECT' })
    })

    it('arguments out of range are RangeErrors, before any statement', async () => {
      spy.statements.length = 0
      const long = `lm:{x}:s:${'k'.repeat(250)}`
      await assert.rejects(store.get(long), RangeError)
      await assert.rejects(store.get(''), RangeError)
      await assert.rejects(
        store.write('k', { mode: 'create', set: { a: '1' }, ttl: Number.NaN }),
        RangeError,
      )
      await assert.rejects(store.write('k', { mode: 'create', set: {}, ttl: 60 }), RangeError)
      await assert.rejects(
        store.write('k', { mode: 'upsert' as 'create', set: { a: '1' }, ttl: 60 }),
        RangeError,
      )
      await assert.rejects(
        store.write('k', { mode: 'update', set: {}, ttl: 60, index: long }),
        RangeError,
      )
      await assert.rejects(store.touch('k', Number.POSITIVE_INFINITY), RangeError)
      assert.deepEqual(spy.statements, [])
    })

    it("close() leaves the app's pool open", async () => {
      const other = new MySqlStore({ pool, prefix: `${RUN}rows_`, cleanupInterval: 0 })
      await other.close()
      const [rows] = await pool.query('SELECT 1 AS one')
      assert.deepEqual((rows as object[])[0], { one: 1 })
    })

    it('close() ends a pool the store made from its uri', async () => {
      const owned = new MySqlStore({ uri: MYSQL_URL, prefix: `${RUN}rows_`, cleanupInterval: 0 })
      assert.equal(await owned.get('lm:{x}:s:none'), null)
      await owned.close()
      await assert.rejects(owned.get('lm:{x}:s:none'), (error: unknown) => {
        assert.ok(error instanceof StoreUnavailableError)
        assert.match(error.message, /Pool is closed/)
        return true
      })
    })
  })
}
