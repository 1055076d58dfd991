/**
 * The store conformance kit (`runStoreConformance`) against SqliteStore: on a real file in a
 * temporary directory opened by the store (`path`, WAL) with a fake clock, on the app's own
 * better-sqlite3 `Database` (`database`) with the real clock (the expiry tests then wait), and
 * on `:memory:`. Each suite has its own file, deleted afterwards.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import Database from 'better-sqlite3'
import { SqliteStore } from 'login-manager/sqlite'
import { runStoreConformance } from '../../src/stores/conformance.ts'

const dir = mkdtempSync(join(tmpdir(), 'lm-sqlite-conformance-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Every row left in the store's two tables. */
function rows(db: Database.Database, store: SqliteStore): number {
  const { records, index } = store.tables
  const count = (table: string) =>
    (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n
  return count(records) + count(index)
}

// A file the store opens itself, on a clock the kit moves.
{
  const clock = { now: 1_700_000_000_000 }
  const path = join(dir, 'path.db')
  runStoreConformance(
    'SqliteStore (path, WAL, fake clock)',
    async () => {
      const store = new SqliteStore({ path, now: () => clock.now, cleanupInterval: 0 })
      await store.createSchema()
      await store.checkSchema()
      return store
    },
    {
      supportsTimeTravel: {
        advance(ms) {
          clock.now += ms
        },
      },
      async cleanup(store) {
        const sqlite = store as SqliteStore
        // Past every ttl the kit wrote: the sweep leaves no row behind.
        clock.now += 3_600_000
        await sqlite.cleanup()
        const db = new Database(path, { readonly: true })
        try {
          assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
          assert.equal(rows(db, sqlite), 0, 'rows left after the cleanup')
        } finally {
          db.close()
          await sqlite.close()
        }
      },
    },
  )
}

// The app's own Database, the real clock, a prefix and custom table names.
{
  const db = new Database(join(dir, 'database.db'), { timeout: 1000 })
  db.pragma('journal_mode = WAL')
  runStoreConformance(
    'SqliteStore (database, real clock, prefix and table names)',
    async () => {
      const store = new SqliteStore({
        database: db,
        prefix: 'conf_',
        tables: { records: 'records', index: 'members' },
      })
      await store.createSchema()
      await store.checkSchema()
      return store
    },
    {
      async cleanup(store) {
        const sqlite = store as SqliteStore
        assert.deepEqual(sqlite.tables, { records: 'conf_records', index: 'conf_members' })
        await sqlite.close()
        assert.ok(db.open, 'close() leaves the app its own Database')
        db.close()
      },
    },
  )
}

// :memory:
{
  const clock = { now: 1_700_000_000_000 }
  runStoreConformance(
    'SqliteStore (:memory:)',
    async () => {
      const store = new SqliteStore({ path: ':memory:', now: () => clock.now })
      await store.createSchema()
      return store
    },
    {
      supportsTimeTravel: {
        advance(ms) {
          clock.now += ms
        },
      },
      cleanup: (store) => (store as SqliteStore).close(),
    },
  )
}
