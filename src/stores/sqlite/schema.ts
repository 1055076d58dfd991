import { LoginManagerError } from '../../shared/errors.ts'
import type { SqliteDatabaseLike } from './driver.ts'

/**
 * Where {@link SqliteStore} keeps its rows: the two table names, each one prepended with
 * `prefix`. Names are SQL identifiers (letters, digits and `_`, not starting with a digit).
 *
 * @example
 * ```ts
 * const names: SqliteTableOptions = { prefix: 'shop_', tables: { records: 'sessions' } }
 * // tables shop_sessions and shop_login_session_index
 * ```
 */
export interface SqliteTableOptions {
  /**
   * The two tables' names (before `prefix`): `records` holds sessions and remember-me tokens,
   * `index` each user's list of them.
   * @default { records: 'login_sessions', index: 'login_session_index' }
   */
  readonly tables?: { readonly records?: string | undefined; readonly index?: string | undefined }
  /**
   * Prepended to both table names (and so to their indexes' names), for several apps in one
   * database file. Letters, digits and `_`.
   * @default ''
   */
  readonly prefix?: string | undefined
}

/** The resolved table names, validated; quote them with {@link quote} in SQL. */
export interface TableNames {
  readonly records: string
  readonly index: string
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
const PREFIX = /^[A-Za-z0-9_]*$/
/** Long enough for any sensible name, short enough that its indexes' names stay readable. */
const MAX_NAME = 100

/**
 * The table names for these options, validated.
 * @throws LoginManagerError `ERR_INVALID_OPTION` naming the bad option.
 */
export function tableNames(options: SqliteTableOptions, owner: string): TableNames {
  const prefix = options.prefix ?? ''
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `${owner} prefix must be letters, digits and '_' only (it is part of the table names), got ${JSON.stringify(prefix)}`,
    )
  }
  const tables = options.tables ?? {}
  if (typeof tables !== 'object' || tables === null) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `${owner} tables must be an object like { records: 'login_sessions', index: 'login_session_index' }`,
    )
  }
  const name = (which: 'records' | 'index', fallback: string): string => {
    const given = tables[which] ?? fallback
    const full = `${prefix}${String(given)}`
    if (typeof given !== 'string' || !IDENTIFIER.test(full) || full.length > MAX_NAME) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `${owner} tables.${which} (with the prefix: ${JSON.stringify(full)}) must be an SQL identifier: letters, digits and '_', not starting with a digit, at most ${MAX_NAME} characters`,
      )
    }
    if (full.toLowerCase().startsWith('sqlite_')) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `${owner} tables.${which}: names starting with 'sqlite_' are reserved by SQLite, got ${JSON.stringify(full)}`,
      )
    }
    return full
  }
  const records = name('records', 'login_sessions')
  const index = name('index', 'login_session_index')
  if (records.toLowerCase() === index.toLowerCase()) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `${owner} tables.records and tables.index must differ, both are ${JSON.stringify(records)}`,
    )
  }
  return { records, index }
}

/** A validated identifier, quoted for SQL. */
export function quote(name: string): string {
  return `"${name}"`
}

/** The names of the three secondary indexes, derived from the table names. */
function indexNames(names: TableNames) {
  return {
    recordsExpiry: `${names.records}_expires_at`,
    indexMember: `${names.index}_member_key`,
    indexExpiry: `${names.index}_expires_at`,
  }
}

/** The SQL that creates the store's tables and indexes, idempotently (`IF NOT EXISTS`). */
export function migrationSql(names: TableNames): string {
  const r = quote(names.records)
  const i = quote(names.index)
  const n = indexNames(names)
  return `-- login-manager SqliteStore schema (SQLite 3.37 or later: STRICT tables)
-- Sessions and remember-me tokens. key: login-manager's hashed key (lm:{tag}:s:<hash> or
-- lm:{tag}:r:<selector>, at most 100 ASCII characters); fields: a JSON object of string values;
-- expires_at: milliseconds since the epoch.
CREATE TABLE IF NOT EXISTS ${r} (
  "key" TEXT NOT NULL PRIMARY KEY,
  "fields" TEXT NOT NULL,
  "expires_at" INTEGER NOT NULL
) STRICT;
-- The background cleanup deletes expired rows in batches along this index.
CREATE INDEX IF NOT EXISTS ${quote(n.recordsExpiry)} ON ${r} ("expires_at");
-- Each user's sessions and tokens (index_key lm:{tag}:idx), for listSessions and
-- logoutEverywhere; expires_at: at least that of the member's record.
CREATE TABLE IF NOT EXISTS ${i} (
  "index_key" TEXT NOT NULL,
  "member_key" TEXT NOT NULL,
  "expires_at" INTEGER NOT NULL,
  PRIMARY KEY ("index_key", "member_key")
) STRICT, WITHOUT ROWID;
-- Removing a record from every index it is in is a lookup on this index.
CREATE INDEX IF NOT EXISTS ${quote(n.indexMember)} ON ${i} ("member_key");
CREATE INDEX IF NOT EXISTS ${quote(n.indexExpiry)} ON ${i} ("expires_at");
`
}

interface Column {
  readonly name: string
  readonly type: string
  readonly pk: number
}

/** SQLite's type affinity of a declared column type (https://sqlite.org/datatype3.html §3.1). */
function affinity(declared: string): 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC' {
  const type = declared.toUpperCase()
  if (type.includes('INT')) return 'INTEGER'
  if (type.includes('CHAR') || type.includes('CLOB') || type.includes('TEXT')) return 'TEXT'
  if (type === '' || type.includes('BLOB')) return 'BLOB'
  if (type.includes('REAL') || type.includes('FLOA') || type.includes('DOUB')) return 'REAL'
  return 'NUMERIC'
}

/**
 * Everything missing or wrong in the store's schema, one line each (empty when all is right):
 * tables, columns (name, type affinity), primary keys, and an index leading with each column the
 * store searches by. It only reads the schema.
 */
export function schemaProblems(db: SqliteDatabaseLike, names: TableNames): string[] {
  const problems: string[] = []
  const columnsOf = db.prepare('SELECT name, type, pk FROM pragma_table_info(?)')
  const indexesOf = db.prepare('SELECT name FROM pragma_index_list(?)')
  const indexColumns = db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno')
  const check = (
    table: string,
    wanted: readonly [string, 'TEXT' | 'INTEGER'][],
    primaryKey: readonly string[],
    leading: readonly string[],
  ) => {
    const columns = columnsOf.all(table) as Column[]
    if (columns.length === 0) {
      problems.push(`table ${quote(table)} is missing`)
      return
    }
    for (const [name, type] of wanted) {
      const column = columns.find((c) => c.name === name)
      if (column === undefined) problems.push(`column ${quote(name)} of ${quote(table)} is missing`)
      else if (affinity(column.type) !== type) {
        problems.push(
          `column ${quote(name)} of ${quote(table)} is ${column.type || 'untyped'}, not ${type}`,
        )
      }
    }
    const pk = columns
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name)
    if (pk.join(',') !== primaryKey.join(',')) {
      problems.push(
        `the primary key of ${quote(table)} is (${pk.join(', ')}), not (${primaryKey.join(', ')})`,
      )
    }
    const firsts = new Set<string>()
    for (const { name } of indexesOf.all(table) as { name: string }[]) {
      const first = (indexColumns.all(name) as { name: string | null }[])[0]?.name
      if (typeof first === 'string') firsts.add(first)
    }
    for (const column of leading) {
      if (!firsts.has(column)) {
        problems.push(`the index on ${quote(table)} (${quote(column)}) is missing`)
      }
    }
  }
  check(
    names.records,
    [
      ['key', 'TEXT'],
      ['fields', 'TEXT'],
      ['expires_at', 'INTEGER'],
    ],
    ['key'],
    ['key', 'expires_at'],
  )
  check(
    names.index,
    [
      ['index_key', 'TEXT'],
      ['member_key', 'TEXT'],
      ['expires_at', 'INTEGER'],
    ],
    ['index_key', 'member_key'],
    ['index_key', 'member_key', 'expires_at'],
  )
  return problems
}

/** The error {@link schemaProblems} turns into at start-up. */
export function schemaError(where: string, problems: readonly string[]): LoginManagerError {
  return new LoginManagerError(
    'ERR_STORE_SCHEMA',
    `SqliteStore schema in ${where}: ${problems.join('; ')}. Create the tables with await store.createSchema(), or add SqliteStore.migration() to your migrations.`,
  )
}
