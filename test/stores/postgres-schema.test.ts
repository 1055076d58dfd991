/**
 * PostgresStore's schema on the real PostgreSQL (`DATABASE_URL`): `createSchema()` is idempotent
 * and safe to race, `checkSchema()` names exactly what is missing or wrong (schema, table,
 * column, type, primary key, index) and creates nothing, `tables` and `prefix` keep apps apart
 * in one schema, and `cleanup()` deletes expired rows in bounded batches and nothing else.
 * Every test works in schemas of its own, dropped afterwards. Skipped without PostgreSQL, except
 * on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { LoginManagerError } from 'login-manager'
import { PostgresStore } from 'login-manager/postgres'
import {
  CountingPool,
  dropSchema,
  probePostgres,
  schemaName,
  testPool,
} from './postgres-support.ts'
import { ON_CI, sleep } from './support.ts'

const unreachable = await probePostgres()

if (unreachable !== null && !ON_CI)
  console.log(`# skipping the PostgresStore schema tests: ${unreachable}`)

describe('PostgresStore schema and cleanup', {
  skip: unreachable !== null && !ON_CI ? unreachable : false,
}, () => {
  if (unreachable !== null) {
    it('needs a reachable PostgreSQL on CI', () => {
      assert.fail(`${unreachable}. Start PostgreSQL or set DATABASE_URL; on CI this must run.`)
    })
    return
  }
  const pool = testPool()
  const schemas: string[] = []
  const stores: PostgresStore[] = []
  const fresh = (label: string) => {
    const schema = schemaName(label)
    schemas.push(schema)
    return schema
  }
  const store = (options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}) => {
    const made = new PostgresStore({ pool, cleanupInterval: 0, ...options })
    stores.push(made)
    return made
  }
  after(async () => {
    for (const made of stores) await made.close()
    try {
      for (const schema of schemas) await dropSchema(pool, schema)
    } finally {
      await pool.end()
    }
  })

  const schemaError =
    (...patterns: RegExp[]) =>
    (error: unknown) => {
      assert.ok(error instanceof LoginManagerError, `a LoginManagerError, got ${error}`)
      assert.equal(error.code, 'ERR_STORE_SCHEMA')
      for (const pattern of patterns) assert.match(error.message, pattern)
      assert.match(
        error.message,
        /PostgresStore\.migration\(.*\) with your migration tool, or call store\.createSchema\(\)/,
      )
      return true
    }

  it('checkSchema names a missing schema, then missing tables, and creates nothing', async () => {
    const schema = fresh('missing')
    const s = store({ schema })
    await assert.rejects(
      s.checkSchema(),
      schemaError(new RegExp(`schema ${schema} does not exist`)),
    )
    await pool.query(`CREATE SCHEMA "${schema}"`)
    await assert.rejects(
      s.checkSchema(),
      schemaError(
        new RegExp(`table login_sessions does not exist in schema ${schema}`),
        /table login_session_index does not exist/,
      ),
    )
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1',
      [schema],
    )
    assert.equal(rows[0].n, 0, 'checkSchema created nothing')
  })

  it('checkSchema names a wrong type, a missing column, a wrong primary key and missing indexes', async () => {
    const schema = fresh('wrong')
    await pool.query(`CREATE SCHEMA "${schema}"`)
    await pool.query(
      `CREATE TABLE "${schema}".login_sessions (key text PRIMARY KEY, fields json NOT NULL, expires_at bigint NOT NULL)`,
    )
    await pool.query(
      `CREATE TABLE "${schema}".login_session_index (index_key text NOT NULL, member_key text NOT NULL, PRIMARY KEY (member_key, index_key))`,
    )
    await assert.rejects(
      store({ schema }).checkSchema(),
      schemaError(
        /column login_sessions\.fields is json, login-manager needs jsonb/,
        /column login_sessions\.expires_at is bigint, login-manager needs timestamp with time zone/,
        /table login_sessions has no index on expires_at/,
        /table login_session_index has no column expires_at/,
        /the primary key of login_session_index is \(member_key, index_key\), login-manager needs \(index_key, member_key\)/,
        /table login_session_index has no index on expires_at/,
      ),
    )
  })

  it('createSchema is idempotent and safe when several instances run it at once', async () => {
    const schema = fresh('race')
    const many = [store({ schema }), store({ schema }), store({ schema })]
    await Promise.all(many.map((s) => s.createSchema()))
    await many[0]!.createSchema()
    for (const s of many) await s.checkSchema()
    assert.equal(
      await many[1]!.write('lm:{t}:s:a', { mode: 'create', set: { u: '1' }, ttl: 60 }),
      true,
    )
    assert.deepEqual({ ...(await many[2]!.get('lm:{t}:s:a')) }, { u: '1' })
  })

  it('tables and prefix keep two apps apart in one schema', async () => {
    const schema = fresh('apps')
    const one = store({ schema, prefix: 'one_' })
    const two = store({ schema, tables: { records: 'sessions', index: 'session_index' } })
    await one.createSchema()
    await two.createSchema()
    await one.checkSchema()
    await two.checkSchema()
    const { rows } = await pool.query(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
      [schema],
    )
    assert.deepEqual(
      rows.map((r) => r.tablename),
      ['one_login_session_index', 'one_login_sessions', 'session_index', 'sessions'],
    )
    await one.write('lm:{u}:s:x', {
      mode: 'create',
      set: { app: 'one' },
      ttl: 60,
      index: 'lm:{u}:idx',
    })
    assert.equal(await two.get('lm:{u}:s:x'), null)
    assert.deepEqual(await two.members('lm:{u}:idx'), [])
    assert.deepEqual(await one.members('lm:{u}:idx'), ['lm:{u}:s:x'])
    // A store on tables that do not exist fails with a StoreUnavailableError that says what to do.
    await assert.rejects(store({ schema, prefix: 'three_' }).get('k'), /createSchema\(\)/)
  })

  it('cleanup deletes expired records and their index entries in bounded batches, nothing alive', async () => {
    const schema = fresh('sweep')
    const counting = new CountingPool(pool)
    const s = new PostgresStore({ pool: counting, schema, cleanupInterval: 0, cleanupBatch: 2 })
    stores.push(s)
    await s.createSchema()
    const index = 'lm:{u}:idx'
    for (let i = 0; i < 5; i++) {
      await s.write(`lm:{u}:s:old${i}`, { mode: 'create', set: { u: '1' }, ttl: 1, index })
    }
    await s.write('lm:{u}:s:alive', { mode: 'create', set: { u: '1' }, ttl: 60, index })
    await sleep(1_200)
    counting.reset()
    assert.equal(await s.cleanup(), 5)
    // 2 + 2 + 1 records, then one index batch (their entries went with them).
    assert.equal(counting.statements, 4, JSON.stringify(counting.texts))
    const left = await pool.query(
      `SELECT (SELECT count(*)::int FROM "${schema}".login_sessions) AS records,
              (SELECT count(*)::int FROM "${schema}".login_session_index) AS entries`,
    )
    assert.deepEqual(left.rows[0], { records: 1, entries: 1 })
    assert.deepEqual(await s.members(index), ['lm:{u}:s:alive'])
    assert.equal(await s.cleanup(), 0)
  })

  it('an index entry outlives its own expiry while its record is alive (touched)', async () => {
    const schema = fresh('touch')
    const s = store({ schema })
    await s.createSchema()
    const index = 'lm:{u}:idx'
    await s.write('lm:{u}:s:a', { mode: 'create', set: { u: '1' }, ttl: 1, index })
    assert.equal(await s.touch('lm:{u}:s:a', 60), true)
    await sleep(1_200)
    await s.cleanup()
    assert.deepEqual(
      await s.members(index),
      ['lm:{u}:s:a'],
      'still listed: log out everywhere finds it',
    )
    assert.equal(await s.destroyIndex(index), 1)
  })
})
