// What PostgresStore's constructor refuses, the migration SQL it prints, and the NUL escape of
// field names and values, with no PostgreSQL server: the pools are never connected.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { LoginManagerError } from '../../shared/errors.ts'
import { PostgresStore, type PostgresStoreOptions } from './index.ts'
import { decodeFields, decodeText, encodeFields, encodeText } from './sql.ts'

const refused = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof LoginManagerError, `a LoginManagerError, got ${error}`)
  assert.equal(error.code, 'ERR_INVALID_OPTION')
  assert.match(error.message, pattern)
  return true
}

describe('new PostgresStore(…)', () => {
  const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' })
  const make = (options: unknown) => new PostgresStore(options as PostgresStoreOptions)

  it('refuses the pool itself instead of { pool }, with the right call', () => {
    assert.throws(() => make(pool), refused(/write new PostgresStore\(\{ pool \}\)/))
  })

  it('needs exactly one of pool and connectionString', () => {
    assert.throws(() => make({}), refused(/needs a pool .* or a connectionString/))
    assert.throws(() => make({ pool, connectionString: 'postgres://x@y/z' }), refused(/not both/))
    assert.throws(() => make({ pool: {} }), refused(/pool must be a pg\.Pool/))
    assert.throws(
      () => make({ connectionString: 42 }),
      refused(/connectionString must be a string/),
    )
    assert.throws(() => make(undefined), refused(/expects an options object/))
  })

  it('refuses names that are not plain identifiers, before any SQL is built', () => {
    for (const bad of ['a-b', 'x"; DROP TABLE users; --', '1abc', '', 'a'.repeat(64)]) {
      assert.throws(() => make({ pool, schema: bad }), refused(/schema must be letters/))
      assert.throws(() => make({ pool, tables: { records: bad } }), refused(/tables\.records/))
      assert.throws(() => make({ pool, tables: { index: bad } }), refused(/tables\.index/))
    }
    assert.throws(() => make({ pool, prefix: 'my-app_' }), refused(/prefix must be letters/))
    assert.throws(
      () => make({ pool, tables: { records: 'same', index: 'same' } }),
      refused(/must differ/),
    )
    // Index names are made from table names: they must fit in 63 characters too.
    assert.throws(
      () => make({ pool, tables: { records: 'r'.repeat(60) } }),
      refused(/shorten the table names/),
    )
  })

  it('refuses timeouts, intervals and batches that are not positive numbers', () => {
    for (const commandTimeout of [0, -1, Number.NaN, '100']) {
      assert.throws(() => make({ pool, commandTimeout }), refused(/commandTimeout/))
    }
    for (const cleanupInterval of [-1, Number.POSITIVE_INFINITY, '60']) {
      assert.throws(() => make({ pool, cleanupInterval }), refused(/cleanupInterval/))
    }
    for (const cleanupBatch of [0, 1.5, '10']) {
      assert.throws(() => make({ pool, cleanupBatch }), refused(/cleanupBatch/))
    }
    assert.throws(() => make({ pool, onError: 'log' }), refused(/onError must be a function/))
  })

  it('rejects invalid write arguments with a RangeError, before any SQL', async () => {
    const store = new PostgresStore({ pool, cleanupInterval: 0 })
    await assert.rejects(store.write('k', { mode: 'create', set: {}, ttl: 60 }), RangeError)
    await assert.rejects(
      store.write('k', { mode: 'create', set: { u: '1' }, ttl: 60, expect: { u: '1' } }),
      RangeError,
    )
    await assert.rejects(
      store.write('k', { mode: 'upsert' as 'create', set: { u: '1' }, ttl: 60 }),
      RangeError,
    )
    await assert.rejects(store.touch('k', Number.NaN), RangeError)
    await store.close()
  })
})

describe('PostgresStore.migration()', () => {
  it('creates both tables and their three indexes, idempotently, with the names given', () => {
    const sql = PostgresStore.migration({ schema: 'auth', prefix: 'app1_' })
    assert.match(sql, /^CREATE SCHEMA IF NOT EXISTS "auth";/)
    assert.match(sql, /CREATE TABLE IF NOT EXISTS "auth"\."app1_login_sessions" \(/)
    assert.match(sql, /CREATE TABLE IF NOT EXISTS "auth"\."app1_login_session_index" \(/)
    assert.match(
      sql,
      /"app1_login_sessions_expires_at" ON "auth"\."app1_login_sessions" \(expires_at\)/,
    )
    assert.match(sql, /"app1_login_session_index_member_key" ON .* \(member_key\)/)
    assert.match(sql, /"app1_login_session_index_expires_at" ON .* \(expires_at\)/)
    assert.equal(sql.match(/IF NOT EXISTS/g)?.length, 6)
  })

  it('without a schema, names the tables unqualified (the search path finds them)', () => {
    const sql = PostgresStore.migration()
    assert.doesNotMatch(sql, /CREATE SCHEMA/)
    assert.match(sql, /CREATE TABLE IF NOT EXISTS "login_sessions" \(/)
    assert.match(sql, /CREATE TABLE IF NOT EXISTS "login_session_index" \(/)
  })
})

describe('field names and values as stored', () => {
  it('NUL (which PostgreSQL text cannot hold) and the escape character round-trip', () => {
    for (const text of [
      '',
      'plain',
      '\u0000',
      'a\u0000b',
      '\u0001',
      '\u0001\u0001x',
      'x\u0001',
      '\u0001\u0000\u0002',
    ]) {
      assert.equal(decodeText(encodeText(text)), text, JSON.stringify(text))
      assert.ok(!encodeText(text).includes('\u0000'), JSON.stringify(text))
    }
    assert.equal(encodeText('plain'), 'plain', 'what login-manager writes is stored as is')
  })

  it('a fields object round-trips into a null-prototype record; non-strings are refused', () => {
    const fields = { a: '1', 'n\u0000ul': 'v\u0000', '\u0001': 'x' }
    const back = decodeFields(JSON.parse(encodeFields(fields)))
    assert.ok(back !== null)
    assert.equal(Object.getPrototypeOf(back), null)
    assert.deepEqual({ ...back }, fields)
    assert.equal(decodeFields({ a: 1 }), null)
    assert.equal(decodeFields([]), null)
    assert.equal(decodeFields('x'), null)
  })
})
