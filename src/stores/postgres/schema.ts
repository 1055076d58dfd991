import { LoginManagerError } from '../../shared/errors.ts'

/**
 * Where {@link PostgresStore}'s tables live: `schema`, the two table names, and a `prefix`
 * prepended to both. Used by the constructor and by `PostgresStore.migration()`.
 *
 * @example
 * ```ts
 * const names: PostgresSchemaOptions = { schema: 'auth', prefix: 'myapp_' }
 * // tables auth.myapp_login_sessions and auth.myapp_login_session_index
 * ```
 */
export interface PostgresSchemaOptions {
  /**
   * The PostgreSQL schema of both tables. Without it the tables are named unqualified, and
   * PostgreSQL finds them through the connection's `search_path` (usually `public`).
   * @default undefined
   */
  readonly schema?: string | undefined
  /**
   * The table names, before `prefix`: `records` holds sessions and remember-me tokens, `index`
   * the per-user index.
   * @default { records: 'login_sessions', index: 'login_session_index' }
   */
  readonly tables?: { readonly records?: string | undefined; readonly index?: string | undefined }
  /**
   * Prepended to both table names (and their indexes), so that several apps can share one
   * database or schema: `app1_` gives `app1_login_sessions` and `app1_login_session_index`.
   * @default ''
   */
  readonly prefix?: string | undefined
}

/** The resolved, validated names, each already quoted for SQL. */
export interface SchemaNames {
  /** The schema name unquoted, or undefined (the search path). */
  readonly schema: string | undefined
  /** Unquoted table names (prefix applied), for messages and catalog look-ups. */
  readonly recordsName: string
  readonly indexName: string
  /** Quoted, schema-qualified names for statements. */
  readonly records: string
  readonly index: string
  /** Quoted index names (unqualified: an index lives in its table's schema). */
  readonly recordsExpiry: string
  readonly indexMember: string
  readonly indexExpiry: string
}

/** A PostgreSQL identifier login-manager accepts: letters, digits and `_`, not starting with a digit. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
/** PostgreSQL truncates longer identifiers (NAMEDATALEN − 1 bytes), which would make names collide. */
const MAX_IDENTIFIER = 63

function identifier(what: string, value: unknown): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value) || value.length > MAX_IDENTIFIER) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `PostgresStore ${what} must be letters, digits and '_' (not starting with a digit), at most ${MAX_IDENTIFIER} characters; got ${JSON.stringify(value)}`,
    )
  }
  return value
}

const quote = (name: string): string => `"${name}"`

/**
 * Validates and resolves the names.
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` for a name that is not a plain identifier.
 */
export function schemaNames(options: PostgresSchemaOptions = {}): SchemaNames {
  const schema = options.schema === undefined ? undefined : identifier('schema', options.schema)
  const prefix = options.prefix ?? ''
  if (prefix !== '') identifier('prefix', prefix)
  const tables = options.tables ?? {}
  const recordsName = identifier(
    'tables.records (with prefix)',
    prefix + (tables.records ?? 'login_sessions'),
  )
  const indexName = identifier(
    'tables.index (with prefix)',
    prefix + (tables.index ?? 'login_session_index'),
  )
  if (recordsName === indexName) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `PostgresStore tables.records and tables.index must differ; both are ${recordsName}`,
    )
  }
  const qualify = (name: string) =>
    schema === undefined ? quote(name) : `${quote(schema)}.${quote(name)}`
  const indexOf = (table: string, suffix: string) =>
    quote(identifier(`the index name ${table}${suffix} (shorten the table names)`, table + suffix))
  return {
    schema,
    recordsName,
    indexName,
    records: qualify(recordsName),
    index: qualify(indexName),
    recordsExpiry: indexOf(recordsName, '_expires_at'),
    indexMember: indexOf(indexName, '_member_key'),
    indexExpiry: indexOf(indexName, '_expires_at'),
  }
}

/**
 * The SQL that creates both tables and their indexes, idempotent (`IF NOT EXISTS`), for
 * `createSchema()` and for the app's own migration tool.
 */
export function migrationSql(names: SchemaNames): string {
  const lines: string[] = []
  if (names.schema !== undefined) lines.push(`CREATE SCHEMA IF NOT EXISTS ${quote(names.schema)};`)
  lines.push(
    '',
    '-- Sessions and remember-me tokens: one row per record, its fields a JSON object of strings.',
    `CREATE TABLE IF NOT EXISTS ${names.records} (`,
    '  key        text        PRIMARY KEY,',
    '  fields     jsonb       NOT NULL,',
    '  expires_at timestamptz NOT NULL',
    ');',
    `CREATE INDEX IF NOT EXISTS ${names.recordsExpiry} ON ${names.records} (expires_at);`,
    '',
    '-- The per-user index: which records belong to which user.',
    `CREATE TABLE IF NOT EXISTS ${names.index} (`,
    '  index_key  text        NOT NULL,',
    '  member_key text        NOT NULL,',
    '  expires_at timestamptz NOT NULL,',
    '  PRIMARY KEY (index_key, member_key)',
    ');',
    `CREATE INDEX IF NOT EXISTS ${names.indexMember} ON ${names.index} (member_key);`,
    `CREATE INDEX IF NOT EXISTS ${names.indexExpiry} ON ${names.index} (expires_at);`,
  )
  return `${lines.join('\n').trim()}\n`
}

/** What {@link checkSchemaQueries} needs to run a catalog query. */
export type CatalogQuery = (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>

interface Expected {
  readonly table: string
  readonly columns: readonly (readonly [name: string, type: string])[]
  readonly primaryKey: readonly string[]
  /** Columns that must lead some index (for look-ups and cleanup without a table scan). */
  readonly indexed: readonly string[]
}

/**
 * Every problem with the tables as they are in the database, as sentences naming the table,
 * column or index; empty when the schema is as `migrationSql` makes it (extra columns and
 * indexes are fine).
 */
export async function schemaProblems(names: SchemaNames, query: CatalogQuery): Promise<string[]> {
  const problems: string[] = []
  const where = names.schema === undefined ? 'on the search path' : `in schema ${names.schema}`
  if (names.schema !== undefined) {
    const found = await query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [names.schema])
    if (found.length === 0) return [`schema ${names.schema} does not exist`]
  }
  const expected: Expected[] = [
    {
      table: names.recordsName,
      columns: [
        ['key', 'text'],
        ['fields', 'jsonb'],
        ['expires_at', 'timestamp with time zone'],
      ],
      primaryKey: ['key'],
      indexed: ['expires_at'],
    },
    {
      table: names.indexName,
      columns: [
        ['index_key', 'text'],
        ['member_key', 'text'],
        ['expires_at', 'timestamp with time zone'],
      ],
      primaryKey: ['index_key', 'member_key'],
      indexed: ['member_key', 'expires_at'],
    },
  ]
  for (const table of expected) {
    const qualified =
      names.schema === undefined
        ? quote(table.table)
        : `${quote(names.schema)}.${quote(table.table)}`
    const [found] = await query('SELECT to_regclass($1)::oid AS oid', [qualified])
    const oid = found?.oid
    if (oid === null || oid === undefined) {
      problems.push(`table ${table.table} does not exist ${where}`)
      continue
    }
    const columns = await query(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS not_null
         FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
      [oid],
    )
    const byName = new Map(columns.map((c) => [String(c.name), c]))
    for (const [name, type] of table.columns) {
      const column = byName.get(name)
      if (column === undefined)
        problems.push(`table ${table.table} has no column ${name} (${type})`)
      else if (column.type !== type) {
        problems.push(
          `column ${table.table}.${name} is ${String(column.type)}, login-manager needs ${type}`,
        )
      } else if (column.not_null !== true) {
        problems.push(`column ${table.table}.${name} must be NOT NULL`)
      }
    }
    // Each index as the ordered list of its column names.
    const indexes = await query(
      `SELECT i.indisprimary AS primary,
              array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     ORDER BY k.n)::text[] AS columns
         FROM pg_index i WHERE i.indrelid = $1 AND i.indisvalid`,
      [oid],
    )
    const lists = indexes.map((i) => ({
      primary: i.primary === true,
      columns: (i.columns as string[] | null) ?? [],
    }))
    const primary = lists.find((i) => i.primary)
    const wanted = table.primaryKey.join(', ')
    if (primary === undefined) {
      problems.push(`table ${table.table} has no primary key (it needs PRIMARY KEY (${wanted}))`)
    } else if (primary.columns.join(', ') !== wanted) {
      problems.push(
        `the primary key of ${table.table} is (${primary.columns.join(', ')}), login-manager needs (${wanted})`,
      )
    }
    for (const column of table.indexed) {
      if (!lists.some((i) => i.columns[0] === column)) {
        problems.push(`table ${table.table} has no index on ${column}`)
      }
    }
  }
  return problems
}
