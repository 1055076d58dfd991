/**
 * The store conformance kit (`runStoreConformance`) against the real PostgreSQL
 * (`DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/test): `PostgresStore` on the
 * app's pool (prepared statements), and on a pool of its own (`connectionString`) with a table
 * prefix and unnamed statements. Each run has a
 * schema of its own, created with `createSchema()` and dropped afterwards. Without PostgreSQL the
 * suites are skipped with a printed reason, except on CI (`CI=true`), where they fail.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { runStoreConformance } from '../../src/stores/conformance.ts'
import { PostgresStore } from '../../src/stores/postgres/index.ts'
import {
  asPool,
  DATABASE_URL,
  dropSchema,
  probePostgres,
  schemaName,
  testPool,
} from './postgres-support.ts'

const unreachable = await probePostgres()

if (unreachable === null) {
  const admin = testPool()
  const schemas: string[] = []
  after(async () => {
    try {
      for (const schema of schemas) await dropSchema(admin, schema)
      const { rows } = await admin.query(
        'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ANY($1)',
        [schemas],
      )
      assert.equal(rows[0].n, 0, 'the schemas of this run are left behind')
    } finally {
      await admin.end()
    }
  })

  {
    const schema = schemaName('conf')
    schemas.push(schema)
    const pool = testPool()
    let store: PostgresStore | undefined
    runStoreConformance(
      'PostgresStore (app pool)',
      async () => {
        store = new PostgresStore({ pool: asPool(pool), schema })
        await store.createSchema()
        await store.checkSchema()
        return store
      },
      {
        async cleanup() {
          await store?.close()
          await pool.end()
        },
      },
    )
  }
  {
    const schema = schemaName('confown')
    schemas.push(schema)
    let store: PostgresStore | undefined
    runStoreConformance(
      'PostgresStore (connectionString, prefix, preparedStatements: false)',
      async () => {
        store = new PostgresStore({
          connectionString: DATABASE_URL,
          schema,
          prefix: 'app1_',
          preparedStatements: false,
        })
        await store.createSchema()
        await store.checkSchema()
        return store
      },
      {
        async cleanup() {
          await store?.close()
        },
      },
    )
  }
} else if (process.env.CI === 'true') {
  describe('PostgresStore conformance', () => {
    it('needs a reachable PostgreSQL on CI', () => {
      assert.fail(
        `${unreachable}. Start PostgreSQL or set DATABASE_URL; on CI these suites must run.`,
      )
    })
  })
} else {
  console.log(`# skipping the PostgresStore conformance suites: ${unreachable}`)
  describe('PostgresStore conformance', () => {
    it('PostgresStore', (t) => {
      t.skip(unreachable)
    })
  })
}
