/**
 * The SQL text of every statement `MySqlStore` runs, for its two tables and for the server it
 * found (MariaDB or MySQL). Values always travel as parameters of prepared statements; only
 * identifiers (validated, then quoted) and integers the store chose are written into the text.
 *
 * @module
 */

/** The quoted table names a store works on. */
export interface Tables {
  /** The records table, quoted: `` `login_sessions` ``. */
  readonly records: string
  /** The index table, quoted: `` `login_session_index` ``. */
  readonly index: string
}

/** What differs between the servers, as far as the statements go. */
export interface Dialect {
  /** MariaDB: `SET STATEMENT max_statement_time=… FOR` bounds every statement, writes too. */
  readonly mariadb: boolean
  /** Milliseconds a statement may run on the server; `undefined`: no limit. */
  readonly statementTimeout: number | undefined
}

/**
 * Milliseconds since the epoch, from the database's clock, in UTC whatever the session's time
 * zone: `UNIX_TIMESTAMP(NOW(3))` would read local time back through the zone and be an hour off
 * during a daylight-saving change. Constant within one statement.
 */
const NOW = "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)"

/** Records (and index members) per statement of `destroyIndex`. */
export const CHUNK = 256

/**
 * Placeholder counts used for lists: a list is padded to the next of these (repeating its last
 * item, which an `IN` list ignores), so each statement has a few prepared forms, not hundreds.
 */
const LIST_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, CHUNK] as const

/** The placeholder count a list of `n` items (1 ≤ n ≤ {@link CHUNK}) is padded to. */
export function listSize(n: number): number {
  return LIST_SIZES.find((size) => size >= n) ?? CHUNK
}

/** `list` padded to {@link listSize} items. */
export function padded<T>(list: readonly T[]): T[] {
  const out = [...list]
  const last = list[list.length - 1] as T
  while (out.length < listSize(list.length)) out.push(last)
  return out
}

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ')

/** A JSON path naming one member of the record's object, whatever its name. */
export function fieldPath(name: string): string {
  // A double-quoted member name is a JSON string to both servers' path parsers.
  return `$.${JSON.stringify(name)}`
}

/** Quotes a validated identifier. */
export function quote(identifier: string): string {
  return `\`${identifier}\``
}

/**
 * Every statement of one store, built once its server is known. Parameters are listed beside
 * each; `ttl` parameters are milliseconds.
 */
export class Statements {
  /** `SELECT fields` of a live record. Params: key. */
  readonly get: string
  /** Live members of an index. Params: index. */
  readonly members: string
  /** Locks a live record for the transaction (a `requires` key). Params: key. */
  readonly lockLive: string
  /** Creates a record. Params: key, fields (JSON), ttl. */
  readonly insert: string
  /** Whether a record that blocks a create is still alive (no lock taken). Params: key. */
  readonly isLive: string
  /** Deletes an expired record and its index entries (before a create). Params: key. */
  readonly deleteExpired: string
  /**
   * Updates a live record: JSON merge patch on its fields, new expiry, and every index entry of
   * it extended to outlive it. Params: patch (JSON), ttl ×4, key.
   */
  readonly update: string
  /** Deletes a record and every index entry of it. Params: key. */
  readonly destroy: string
  /** Deletes a record left without fields, and its index entries. Params: key. */
  readonly destroyIfEmpty: string
  /** Adds a member to an index, or extends its entry. Params: index, key, ttl, ttl. */
  readonly addToIndex: string
  /** Every member listed in an index, alive or not. Params: index. */
  readonly listed: string
  /** Deletes one chunk of expired records. No params. */
  readonly sweepRecords: string
  /** Deletes one chunk of expired index entries. No params. */
  readonly sweepIndex: string
  readonly #tables: Tables
  readonly #dialect: Dialect
  readonly #sized = new Map<string, string>()

  constructor(tables: Tables, dialect: Dialect, cleanupBatch: number) {
    this.#tables = tables
    this.#dialect = dialect
    const { records: r, index: i } = tables
    this.get = this.#read(`SELECT fields FROM ${r} WHERE \`key\` = ? AND expires_at > ${NOW}`)
    this.members = this.#read(
      `SELECT i.member_key FROM ${i} i JOIN ${r} r ON r.\`key\` = i.member_key WHERE i.index_key = ? AND r.expires_at > ${NOW}`,
    )
    this.lockLive = this.#write(
      `SELECT 1 FROM ${r} WHERE \`key\` = ? AND expires_at > ${NOW} FOR UPDATE`,
    )
    this.insert = this.#write(
      `INSERT INTO ${r} (\`key\`, fields, expires_at) VALUES (?, ?, ${NOW} + ?)`,
    )
    this.isLive = this.#read(`SELECT expires_at > ${NOW} AS live FROM ${r} WHERE \`key\` = ?`)
    this.deleteExpired = this.#write(
      `DELETE r, i FROM ${r} r LEFT JOIN ${i} i ON i.member_key = r.\`key\` WHERE r.\`key\` = ? AND r.expires_at <= ${NOW}`,
    )
    // The record's row always changes (its expiry moves by 1 ms when it would not), so the
    // affected-rows count says whether it matched with or without the client's FOUND_ROWS flag.
    // Its index entries end 1 ms after it: an entry never expires before its record.
    this.update = this.#write(
      `UPDATE ${r} r LEFT JOIN ${i} i ON i.member_key = r.\`key\` SET r.fields = JSON_MERGE_PATCH(r.fields, ?), r.expires_at = IF(r.expires_at = ${NOW} + ?, ${NOW} + ? + 1, ${NOW} + ?), i.expires_at = GREATEST(i.expires_at, ${NOW} + ? + 1) WHERE r.\`key\` = ? AND r.expires_at > ${NOW}`,
    )
    this.destroy = this.#write(
      `DELETE r, i FROM ${r} r LEFT JOIN ${i} i ON i.member_key = r.\`key\` WHERE r.\`key\` = ?`,
    )
    this.destroyIfEmpty = this.#write(
      `DELETE r, i FROM ${r} r LEFT JOIN ${i} i ON i.member_key = r.\`key\` WHERE r.\`key\` = ? AND JSON_LENGTH(r.fields) = 0`,
    )
    // The new expiry is written twice rather than read back with VALUES() (deprecated on
    // MySQL) or a row alias (unknown to MariaDB).
    this.addToIndex = this.#write(
      `INSERT INTO ${i} (index_key, member_key, expires_at) VALUES (?, ?, ${NOW} + ? + 1) ON DUPLICATE KEY UPDATE expires_at = GREATEST(expires_at, ${NOW} + ? + 1)`,
    )
    this.listed = this.#read(`SELECT member_key FROM ${i} WHERE index_key = ?`)
    this.sweepRecords = this.#write(
      `DELETE FROM ${r} WHERE expires_at <= ${NOW} ORDER BY expires_at LIMIT ${cleanupBatch}`,
    )
    this.sweepIndex = this.#write(
      `DELETE FROM ${i} WHERE expires_at <= ${NOW} ORDER BY expires_at LIMIT ${cleanupBatch}`,
    )
  }

  /**
   * Locks a live record for the transaction if every expected field holds exactly its value
   * (compared byte for byte: a missing field's NULL matches nothing). Params: key, then path and
   * value for each field.
   */
  lockExpected(fields: number): string {
    return this.#cached(`expect ${fields}`, () => {
      const checks = Array.from(
        { length: fields },
        () => ' AND CAST(JSON_UNQUOTE(JSON_EXTRACT(fields, ?)) AS BINARY) = CAST(? AS BINARY)',
      ).join('')
      return this.#write(
        `SELECT 1 FROM ${this.#tables.records} WHERE \`key\` = ? AND expires_at > ${NOW}${checks} FOR UPDATE`,
      )
    })
  }

  /** Deletes the live records of a list and returns the count. Params: {@link listSize} keys. */
  destroyLive(count: number): string {
    const size = listSize(count)
    return this.#cached(`destroy ${size}`, () =>
      this.#write(
        `DELETE FROM ${this.#tables.records} WHERE \`key\` IN (${marks(size)}) AND expires_at > ${NOW}`,
      ),
    )
  }

  /** Deletes every index entry of a list of members. Params: {@link listSize} keys. */
  unindex(count: number): string {
    const size = listSize(count)
    return this.#cached(`unindex ${size}`, () =>
      this.#write(`DELETE FROM ${this.#tables.index} WHERE member_key IN (${marks(size)})`),
    )
  }

  #cached(name: string, build: () => string): string {
    let sql = this.#sized.get(name)
    if (sql === undefined) {
      sql = build()
      this.#sized.set(name, sql)
    }
    return sql
  }

  /** A read-only statement: MySQL bounds those with an optimizer hint, MariaDB like any other. */
  #read(sql: string): string {
    const limit = this.#dialect.statementTimeout
    if (limit === undefined) return sql
    if (this.#dialect.mariadb) return this.#write(sql)
    return sql.replace(/^SELECT /, `SELECT /*+ MAX_EXECUTION_TIME(${Math.ceil(limit)}) */ `)
  }

  /** Any other statement: bounded on MariaDB; MySQL has no server-side limit for those. */
  #write(sql: string): string {
    const limit = this.#dialect.statementTimeout
    if (limit === undefined || !this.#dialect.mariadb) return sql
    // Whole milliseconds, at least one: `max_statement_time=0` would mean no limit at all.
    return `SET STATEMENT max_statement_time=${(Math.max(1, Math.ceil(limit)) / 1000).toFixed(3)} FOR ${sql}`
  }
}
