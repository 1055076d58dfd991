/**
 * The two tables of `MySqlStore`: the SQL that creates them, and the start-up check that finds
 * what is missing or wrong in an existing database (through `information_schema`, creating
 * nothing).
 *
 * @module
 */
import { LoginManagerError } from '../../shared/errors.ts'
import { quote } from './sql.ts'

/** The unquoted table names of a store. */
export interface TableNames {
  readonly records: string
  readonly index: string
}

/**
 * The `CREATE TABLE` statements, in order. Keys are `VARBINARY`: compared byte for byte, case
 * and trailing spaces included (`ascii_bin` and `utf8mb4_bin` are PAD SPACE collations, for
 * which `'a'` and `'a '` are one key). `fields` is `JSON` (on MariaDB an alias of `LONGTEXT`
 * with a `JSON_VALID` check, in utf8mb4). Expiries are milliseconds since the epoch, UTC.
 */
export function createStatements(names: TableNames): string[] {
  const records = quote(names.records)
  const index = quote(names.index)
  return [
    `CREATE TABLE IF NOT EXISTS ${records} (
  \`key\` VARBINARY(255) NOT NULL,
  \`fields\` JSON NOT NULL,
  \`expires_at\` BIGINT NOT NULL,
  PRIMARY KEY (\`key\`),
  INDEX \`by_expiry\` (\`expires_at\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    `CREATE TABLE IF NOT EXISTS ${index} (
  \`index_key\` VARBINARY(255) NOT NULL,
  \`member_key\` VARBINARY(255) NOT NULL,
  \`expires_at\` BIGINT NOT NULL,
  PRIMARY KEY (\`index_key\`, \`member_key\`),
  INDEX \`by_member\` (\`member_key\`),
  INDEX \`by_expiry\` (\`expires_at\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  ]
}

/** The statements as one SQL text, each ending with `;`. */
export function migrationText(names: TableNames): string {
  return `${createStatements(names)
    .map((statement) => `${statement};`)
    .join('\n\n')}\n`
}

/** Runs one read-only statement and returns its rows. */
export type Rows = (sql: string, params: string[]) => Promise<Record<string, unknown>[]>

interface Column {
  readonly name: string
  /** Accepted `information_schema.COLUMNS.DATA_TYPE` values. */
  readonly types: readonly string[]
  /** The least `CHARACTER_MAXIMUM_LENGTH`, for binary strings. */
  readonly length?: number
  readonly sql: string
}

const KEY = (name: string): Column => ({
  name,
  types: ['varbinary'],
  length: 255,
  sql: `\`${name}\` VARBINARY(255) NOT NULL`,
})
const EXPIRES_AT: Column = {
  name: 'expires_at',
  types: ['bigint'],
  sql: '`expires_at` BIGINT NOT NULL',
}
const FIELDS: Column = {
  name: 'fields',
  // MySQL reports JSON as json; MariaDB's JSON is a LONGTEXT alias.
  types: ['json', 'longtext'],
  sql: '`fields` JSON NOT NULL',
}

interface Expected {
  readonly table: string
  readonly columns: readonly Column[]
  readonly primary: readonly string[]
  /** Secondary indexes, each named by its first column. */
  readonly indexes: readonly {
    readonly first: string
    readonly name: string
    readonly why: string
  }[]
}

/**
 * Checks the tables of a store against what it needs and throws one error naming every
 * problem. Never creates or changes anything.
 *
 * @throws {LoginManagerError} `ERR_STORE_SCHEMA`
 */
export async function checkTables(rows: Rows, names: TableNames): Promise<void> {
  const [current] = await rows('SELECT DATABASE() AS db', [])
  const database = current?.db
  if (typeof database !== 'string') {
    throw schemaError(
      'the connection has no current database: name one in the pool options (`database`) or in the URL path (mysql://host:3306/mydb)',
    )
  }
  const expected: Expected[] = [
    {
      table: names.records,
      columns: [KEY('key'), FIELDS, EXPIRES_AT],
      primary: ['key'],
      indexes: [{ first: 'expires_at', name: 'by_expiry', why: 'for the expiry sweep' }],
    },
    {
      table: names.index,
      columns: [KEY('index_key'), KEY('member_key'), EXPIRES_AT],
      primary: ['index_key', 'member_key'],
      indexes: [
        {
          first: 'member_key',
          name: 'by_member',
          why: "to remove a record from its indexes by the record's key",
        },
        { first: 'expires_at', name: 'by_expiry', why: 'for the expiry sweep' },
      ],
    },
  ]
  const tableNames = [names.records, names.index]
  const tables = await rows(
    'SELECT TABLE_NAME AS name, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)',
    tableNames,
  )
  const columns = await rows(
    'SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS type, CHARACTER_MAXIMUM_LENGTH AS len, IS_NULLABLE AS nullable, CHARACTER_SET_NAME AS charset FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)',
    tableNames,
  )
  const indexes = await rows(
    'SELECT TABLE_NAME AS tbl, INDEX_NAME AS idx, SEQ_IN_INDEX AS seq, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?) ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
    tableNames,
  )
  const problems: string[] = []
  for (const want of expected) {
    const same = (value: unknown) => lower(value) === want.table.toLowerCase()
    const table = tables.find((row) => same(row.name))
    if (table === undefined) {
      problems.push(`table \`${want.table}\` does not exist in database \`${database}\``)
      continue
    }
    if (lower(table.engine) !== 'innodb') {
      problems.push(
        `table \`${want.table}\` uses the ${String(table.engine)} engine: it needs InnoDB (transactions and row locks); ALTER TABLE \`${want.table}\` ENGINE=InnoDB`,
      )
    }
    for (const column of want.columns) {
      const found = columns.find((row) => same(row.tbl) && lower(row.name) === column.name)
      const problem = columnProblem(want.table, column, found)
      if (problem !== undefined) problems.push(problem)
    }
    const byIndex = new Map<string, string[]>()
    for (const row of indexes) {
      if (!same(row.tbl)) continue
      const name = String(row.idx)
      byIndex.set(name, [...(byIndex.get(name) ?? []), lower(row.col)])
    }
    const primary = byIndex.get('PRIMARY')
    if (primary?.join(',') !== want.primary.join(',')) {
      const list = want.primary.map((c) => `\`${c}\``).join(', ')
      problems.push(
        `table \`${want.table}\` needs PRIMARY KEY (${list})${primary === undefined ? '' : `, not (${primary.map((c) => `\`${c}\``).join(', ')})`}`,
      )
    }
    for (const index of want.indexes) {
      const exists = [...byIndex].some(
        ([name, cols]) => name !== 'PRIMARY' && cols[0] === index.first,
      )
      if (!exists) {
        problems.push(
          `table \`${want.table}\` has no index on \`${index.first}\` (${index.why}): CREATE INDEX \`${index.name}\` ON \`${want.table}\` (\`${index.first}\`)`,
        )
      }
    }
  }
  if (problems.length > 0) {
    throw schemaError(
      `${problems.join('; ')}. Create the tables with the SQL of MySqlStore.migration() in a migration, or call store.createSchema() (which creates what is missing but changes no existing table)`,
    )
  }
}

function columnProblem(
  table: string,
  column: Column,
  found: Record<string, unknown> | undefined,
): string | undefined {
  const where = `column \`${table}\`.\`${column.name}\``
  if (found === undefined) {
    return `${where} is missing: ALTER TABLE \`${table}\` ADD ${column.sql}`
  }
  const type = lower(found.type)
  if (!column.types.includes(type)) {
    return `${where} is ${type}, it must be ${column.sql}`
  }
  if (column.length !== undefined && Number(found.len) < column.length) {
    return `${where} holds ${String(found.len)} bytes, it must hold ${column.length}: ALTER TABLE \`${table}\` MODIFY ${column.sql}`
  }
  if (type === 'longtext' && lower(found.charset) !== 'utf8mb4') {
    return `${where} is in ${String(found.charset)}, it must be utf8mb4 (session values may hold any Unicode): ALTER TABLE \`${table}\` MODIFY ${column.sql}`
  }
  if (lower(found.nullable) !== 'no') {
    return `${where} allows NULL: ALTER TABLE \`${table}\` MODIFY ${column.sql}`
  }
  return undefined
}

function lower(value: unknown): string {
  return typeof value === 'string'
    ? value.toLowerCase()
    : Buffer.isBuffer(value)
      ? value.toString('utf8').toLowerCase()
      : String(value).toLowerCase()
}

function schemaError(detail: string): LoginManagerError {
  return new LoginManagerError('ERR_STORE_SCHEMA', `MySqlStore: ${detail}`)
}
