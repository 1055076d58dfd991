import type { StoreWrite } from '../../session/store.ts'
import type { SqliteDatabaseLike, SqliteStatementLike } from './driver.ts'
import { quote, type TableNames } from './schema.ts'

/**
 * The store's SQL, prepared once per store, and each operation as one synchronous transaction.
 * Times are milliseconds since the epoch, from the caller's clock.
 *
 * Invariant: an index row's `expires_at` is at least its member record's, because every
 * statement that moves a record's expiry also moves its index rows (so the cleanup may delete
 * index rows by their own expiry). A record leaves every index it is in when it is deleted.
 */
export class Operations {
  readonly #s: ReturnType<typeof prepare>
  readonly #write: (key: string, write: StoreWrite, ttl: number, now: number) => boolean
  readonly #touch: (key: string, patch: string, expiresAt: number, now: number) => boolean
  readonly #destroy: (key: string) => void
  readonly #destroyIndex: (index: string, keep: string, now: number) => number
  readonly #sweep: (now: number, batch: number) => { records: number; entries: number }

  constructor(db: SqliteDatabaseLike, names: TableNames) {
    const s = prepare(db, names)
    this.#s = s
    this.#write = db.transaction(
      (key: string, write: StoreWrite, ttl: number, now: number): boolean => {
        if (write.requires !== undefined && s.exists.get(write.requires, now) === undefined) {
          return false
        }
        const expiresAt = now + ttl * 1000
        if (write.mode === 'create') {
          // An expired record is no record: it makes way (its index rows go below).
          s.purge.run(key, now)
          if (s.insert.run(key, JSON.stringify(write.set), expiresAt).changes === 0) return false
          s.unindex.run(key)
        } else {
          const patch = patchOf(write.set, write.remove)
          const expect = JSON.stringify(write.expect ?? {})
          if (s.update.run({ key, patch, expiresAt, now, expect }).changes === 0) return false
        }
        if (write.replaces !== undefined && write.replaces !== key) {
          s.delete.run(write.replaces)
          // Every index row of the replaced record, so `replacesIndex` too.
          s.unindex.run(write.replaces)
        }
        if (write.mode === 'update') {
          // Without fields a record does not exist (as in Redis): removing the last one deletes it.
          if (s.deleteEmpty.run(key).changes > 0) {
            s.unindex.run(key)
            return true
          }
          s.extendIndex.run({ key, expiresAt })
        }
        if (write.index !== undefined) s.addToIndex.run(write.index, key, expiresAt)
        return true
      },
    ).immediate
    this.#touch = db.transaction(
      (key: string, patch: string, expiresAt: number, now: number): boolean => {
        if (s.touch.run(patch, expiresAt, key, now).changes === 0) return false
        s.extendIndex.run({ key, expiresAt })
        return true
      },
    ).immediate
    this.#destroy = db.transaction((key: string): void => {
      s.delete.run(key)
      s.unindex.run(key)
    }).immediate
    this.#destroyIndex = db.transaction((index: string, keep: string, now: number): number => {
      const destroyed = s.destroyLiveMembers.run({ index, keep, now }).changes
      // Expired members are left to the cleanup; all of them leave every index they are in.
      s.unindexMembers.run({ index, keep })
      return destroyed
    }).immediate
    this.#sweep = db.transaction((now: number, batch: number) => {
      const keys = JSON.stringify(s.expiredBatch.all(now, batch))
      s.unindexKeys.run(keys)
      const records = s.deleteExpiredKeys.run(keys, now).changes
      const entries = s.expiredEntries.run(now, batch).changes
      return { records, entries }
    }).immediate
  }

  /** The record's fields as stored (JSON), or undefined when it does not exist or has expired. */
  get(key: string, now: number): string | undefined {
    return this.#s.get.get(key, now) as string | undefined
  }

  write(key: string, write: StoreWrite, ttl: number, now: number): boolean {
    return this.#write(key, write, ttl, now)
  }

  touch(
    key: string,
    fields: Readonly<Record<string, string>> | undefined,
    ttl: number,
    now: number,
  ): boolean {
    return this.#touch(key, patchOf(fields ?? {}, undefined), now + ttl * 1000, now)
  }

  destroy(key: string): void {
    this.#destroy(key)
  }

  members(index: string, now: number): string[] {
    return this.#s.members.all(index, now) as string[]
  }

  destroyIndex(index: string, keep: readonly string[], now: number): number {
    return this.#destroyIndex(index, JSON.stringify(keep), now)
  }

  /** One cleanup batch: at most `batch` expired records (with their index rows) and `batch` index rows. */
  sweep(now: number, batch: number): { records: number; entries: number } {
    return this.#sweep(now, batch)
  }
}

/**
 * The JSON merge patch (RFC 7396, SQLite's `json_patch`) that sets `set` and removes `remove`:
 * only the named fields change, in SQL, so two requests writing different fields both persist.
 * A field both set and removed is removed, as in the other stores.
 */
function patchOf(
  set: Readonly<Record<string, string>>,
  remove: readonly string[] | undefined,
): string {
  const patch: Record<string, string | null> = Object.create(null)
  for (const field of Object.keys(set)) patch[field] = set[field] as string
  for (const field of remove ?? []) patch[field] = null
  return JSON.stringify(patch)
}

function prepare(db: SqliteDatabaseLike, names: TableNames) {
  const r = quote(names.records)
  const i = quote(names.index)
  const one = (sql: string): SqliteStatementLike => db.prepare(sql)
  // `+"expires_at"` makes the expiry a filter, never the index SQLite searches by: the key (or
  // the index key) finds the rows, whatever statistics the app's database has gathered.
  // Whether each field of the JSON object @expect holds exactly that value in the record (a
  // missing field matches nothing). json_each, not a JSON path: field names are opaque text.
  const expectHolds = `NOT EXISTS (SELECT 1 FROM json_each(@expect) AS e WHERE e.value IS NOT
    (SELECT f.value FROM json_each(${r}."fields") AS f WHERE f.key = e.key))`
  const listed = `SELECT "member_key" FROM ${i} WHERE "index_key" = @index
    AND "member_key" NOT IN (SELECT value FROM json_each(@keep))`
  return {
    get: one(`SELECT "fields" FROM ${r} WHERE "key" = ? AND +"expires_at" > ?`).pluck(),
    exists: one(`SELECT 1 FROM ${r} WHERE "key" = ? AND +"expires_at" > ?`).pluck(),
    purge: one(`DELETE FROM ${r} WHERE "key" = ? AND +"expires_at" <= ?`),
    insert: one(
      `INSERT INTO ${r} ("key", "fields", "expires_at") VALUES (?, ?, ?) ON CONFLICT ("key") DO NOTHING`,
    ),
    update: one(
      `UPDATE ${r} SET "fields" = json_patch("fields", @patch), "expires_at" = @expiresAt
       WHERE "key" = @key AND +"expires_at" > @now AND ${expectHolds}`,
    ),
    touch: one(
      `UPDATE ${r} SET "fields" = json_patch("fields", ?), "expires_at" = ?
       WHERE "key" = ? AND +"expires_at" > ?`,
    ),
    deleteEmpty: one(`DELETE FROM ${r} WHERE "key" = ? AND "fields" = '{}'`),
    delete: one(`DELETE FROM ${r} WHERE "key" = ?`),
    unindex: one(`DELETE FROM ${i} WHERE "member_key" = ?`),
    extendIndex: one(
      `UPDATE ${i} SET "expires_at" = @expiresAt WHERE "member_key" = @key AND +"expires_at" < @expiresAt`,
    ),
    addToIndex: one(
      `INSERT INTO ${i} ("index_key", "member_key", "expires_at") VALUES (?, ?, ?)
       ON CONFLICT ("index_key", "member_key")
       DO UPDATE SET "expires_at" = max("expires_at", excluded."expires_at")`,
    ),
    members: one(
      `SELECT m."member_key" FROM ${i} AS m JOIN ${r} AS x ON x."key" = m."member_key"
       WHERE m."index_key" = ? AND +x."expires_at" > ?`,
    ).pluck(),
    destroyLiveMembers: one(`DELETE FROM ${r} WHERE +"expires_at" > @now AND "key" IN (${listed})`),
    unindexMembers: one(`DELETE FROM ${i} WHERE "member_key" IN (${listed})`),
    expiredBatch: one(
      `SELECT "key" FROM ${r} WHERE "expires_at" <= ? ORDER BY "expires_at" LIMIT ?`,
    ).pluck(),
    unindexKeys: one(`DELETE FROM ${i} WHERE "member_key" IN (SELECT value FROM json_each(?))`),
    deleteExpiredKeys: one(
      `DELETE FROM ${r} WHERE "key" IN (SELECT value FROM json_each(?)) AND +"expires_at" <= ?`,
    ),
    expiredEntries: one(
      `DELETE FROM ${i} WHERE ("index_key", "member_key") IN
       (SELECT "index_key", "member_key" FROM ${i} WHERE "expires_at" <= ? LIMIT ?)`,
    ),
  }
}
