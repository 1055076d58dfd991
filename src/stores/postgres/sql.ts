import type { SchemaNames } from './schema.ts'

/**
 * The statements of `PostgresStore`, one per operation (and per shape of a write). Every
 * operation is ONE statement, run in autocommit: its conditions and all its changes commit or
 * fail together, and the row locks it takes make concurrent operations on the same keys happen
 * wholly before or wholly after it (READ COMMITTED re-checks an `UPDATE`'s or `DELETE`'s
 * conditions on the newest version of a row it had to wait for).
 *
 * Time is the database's clock (`now()`), as Redis's expiry is Redis's: every app instance sees
 * the same expiry whatever its own clock says.
 *
 * @module
 */

/** A statement and its parameters. */
export interface Statement {
  readonly text: string
  readonly values: unknown[]
}

/** `now() + ttl seconds`, with the ttl as parameter `ttl`. */
const expiry = (ttl: string): string => `now() + ${ttl}::int * interval '1 second'`

/** The shape of one write, as the SQL for it depends on it. */
export interface WriteShape {
  readonly mode: 'create' | 'update'
  readonly key: string
  /** JSON of the fields to set (encoded). */
  readonly set: string
  readonly ttl: number
  readonly remove: readonly string[] | undefined
  /** JSON of the expected fields (encoded). */
  readonly expect: string | undefined
  readonly requires: string | undefined
  readonly replaces: string | undefined
  readonly index: string | undefined
}

/**
 * One write, all of it in one statement.
 *
 * - `requires`: the required row is locked (`FOR KEY SHARE`: it cannot be deleted until this
 *   statement commits; `FOR UPDATE` when it is also the row this write deletes, so that two
 *   rotations of one record queue up instead of deadlocking) and the write happens only if it
 *   was found alive.
 * - `create`: `INSERT … ON CONFLICT DO UPDATE … WHERE` the existing row has expired: a live row
 *   is left alone and nothing is returned.
 * - `update`: `UPDATE … WHERE` the row is alive (and holds the `expect`ed values, `@>`), fields
 *   merged in SQL (`||`, `-`), so two writers of different fields both keep theirs.
 * - the replaced row, its index entries and the new index entry are written only when the
 *   record was (`EXISTS (SELECT 1 FROM w)`): a refused write changes nothing.
 *
 * Returns `n`: 1 when written (an update that left no field deleted the record), else 0.
 */
export function writeStatement(t: SchemaNames, w: WriteShape): Statement {
  const values: unknown[] = []
  const p = (value: unknown): string => `$${values.push(value)}`
  const key = p(w.key)
  const set = p(w.set)
  const ttl = p(w.ttl)
  const index = w.index === undefined ? undefined : p(w.index)
  const ctes: string[] = []
  const written = 'EXISTS (SELECT 1 FROM w)'
  let required = ''
  if (w.requires !== undefined) {
    const lock = w.requires === w.replaces || w.requires === w.key ? 'UPDATE' : 'KEY SHARE'
    ctes.push(
      `req AS (SELECT 1 FROM ${t.records} WHERE key = ${p(w.requires)} AND expires_at > now() FOR ${lock})`,
    )
    required = 'EXISTS (SELECT 1 FROM req)'
  }
  if (w.mode === 'create') {
    ctes.push(
      `w AS (INSERT INTO ${t.records} AS r (key, fields, expires_at)
        SELECT ${key}, ${set}::jsonb, ${expiry(ttl)}${required === '' ? '' : ` WHERE ${required}`}
        ON CONFLICT (key) DO UPDATE SET fields = EXCLUDED.fields, expires_at = EXCLUDED.expires_at
        WHERE r.expires_at <= now()
        RETURNING r.key, false AS empty)`,
    )
    // A key revived after it expired (but before the sweep) leaves the indexes it was in.
    const kept = index === undefined ? '' : ` AND index_key <> ${index}`
    ctes.push(`stale AS (DELETE FROM ${t.index} WHERE member_key = ${key}${kept} AND ${written})`)
  } else {
    const removing = w.remove !== undefined && w.remove.length > 0
    const merged = `(fields || ${set}::jsonb)${removing ? ` - ${p(w.remove)}::text[]` : ''}`
    const conditions = [`key = ${key}`, 'expires_at > now()']
    if (w.expect !== undefined) conditions.push(`fields @> ${p(w.expect)}::jsonb`)
    if (required !== '') conditions.push(required)
    const where = conditions.join(' AND ')
    // A record left without fields does not exist (as in Redis): an update that removes the last
    // ones deletes it instead, in the same statement.
    ctes.push(
      `u AS (UPDATE ${t.records} SET fields = ${merged}, expires_at = ${expiry(ttl)}
        WHERE ${where}${removing ? ` AND ${merged} <> '{}'::jsonb` : ''}
        RETURNING key, false AS empty)`,
    )
    if (removing) {
      ctes.push(
        `d AS (DELETE FROM ${t.records} WHERE ${where} AND ${merged} = '{}'::jsonb
          RETURNING key, true AS empty)`,
        `w AS (SELECT key, empty FROM u UNION ALL SELECT key, empty FROM d)`,
        `emptied AS (DELETE FROM ${t.index} WHERE member_key = ${key} AND EXISTS (SELECT 1 FROM d))`,
      )
    } else {
      ctes.push('w AS (SELECT key, empty FROM u)')
    }
  }
  if (w.replaces !== undefined) {
    const old = p(w.replaces)
    ctes.push(`gone AS (DELETE FROM ${t.records} WHERE key = ${old} AND ${written})`)
    ctes.push(`unlisted AS (DELETE FROM ${t.index} WHERE member_key = ${old} AND ${written})`)
  }
  if (index !== undefined) {
    ctes.push(
      `listed AS (INSERT INTO ${t.index} AS i (index_key, member_key, expires_at)
        SELECT ${index}, key, ${expiry(ttl)} FROM w WHERE NOT empty
        ON CONFLICT (index_key, member_key) DO UPDATE SET expires_at = GREATEST(i.expires_at, EXCLUDED.expires_at))`,
    )
  }
  return {
    text: `WITH ${ctes.join(',\n')}\nSELECT count(*)::int AS n FROM w`,
    values,
  }
}

/** The protected request's one round trip: a primary-key look-up of a live record. */
export function getStatement(t: SchemaNames, key: string): Statement {
  return {
    text: `SELECT fields FROM ${t.records} WHERE key = $1 AND expires_at > now()`,
    values: [key],
  }
}

/** Rolling expiry (and fields) of a live record. */
export function touchStatement(
  t: SchemaNames,
  key: string,
  ttl: number,
  fields: string | undefined,
): Statement {
  return fields === undefined
    ? {
        text: `UPDATE ${t.records} SET expires_at = ${expiry('$2')} WHERE key = $1 AND expires_at > now()`,
        values: [key, ttl],
      }
    : {
        text: `UPDATE ${t.records} SET expires_at = ${expiry('$2')}, fields = fields || $3::jsonb
          WHERE key = $1 AND expires_at > now()`,
        values: [key, ttl, fields],
      }
}

/** A record and every index entry naming it. */
export function destroyStatement(t: SchemaNames, key: string): Statement {
  return {
    text: `WITH gone AS (DELETE FROM ${t.records} WHERE key = $1)
      DELETE FROM ${t.index} WHERE member_key = $1`,
    values: [key],
  }
}

/**
 * The living members of an index (a join on the records' primary key); the entries of records
 * that are gone or expired are deleted on the way.
 */
export function membersStatement(t: SchemaNames, index: string): Statement {
  return {
    text: `WITH listed AS (
        SELECT i.member_key, r.key IS NOT NULL AS alive FROM ${t.index} i
          LEFT JOIN ${t.records} r ON r.key = i.member_key AND r.expires_at > now()
         WHERE i.index_key = $1),
      pruned AS (DELETE FROM ${t.index} WHERE index_key = $1
        AND member_key IN (SELECT member_key FROM listed WHERE NOT alive))
      SELECT member_key FROM listed WHERE alive ORDER BY member_key`,
    values: [index],
  }
}

/**
 * Deletes the records of an index (but `keep`) and their entries. The records are locked in key
 * order first, so that two of these never deadlock each other; only live records are counted.
 */
export function destroyIndexStatement(
  t: SchemaNames,
  index: string,
  keep: readonly string[],
): Statement {
  const notKept = keep.length === 0 ? '' : ' AND NOT (member_key = ANY ($2::text[]))'
  return {
    text: `WITH victims AS (
        SELECT r.key, r.expires_at > now() AS alive FROM ${t.records} r
         WHERE r.key IN (SELECT member_key FROM ${t.index} WHERE index_key = $1${notKept})
         ORDER BY r.key FOR UPDATE OF r),
      gone AS (DELETE FROM ${t.records} WHERE key IN (SELECT key FROM victims)),
      unlisted AS (DELETE FROM ${t.index} WHERE index_key = $1${notKept})
      SELECT (count(*) FILTER (WHERE alive))::int AS n FROM victims`,
    values: keep.length === 0 ? [index] : [index, keep],
  }
}

/**
 * One cleanup batch of expired records (by the `expires_at` index, oldest first, skipping rows
 * another transaction holds) and their index entries.
 */
export function sweepRecordsStatement(t: SchemaNames, batch: number): Statement {
  return {
    text: `WITH doomed AS (
        SELECT key FROM ${t.records} WHERE expires_at <= now()
         ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED),
      gone AS (DELETE FROM ${t.records} WHERE key IN (SELECT key FROM doomed) RETURNING key),
      unlisted AS (DELETE FROM ${t.index} WHERE member_key IN (SELECT key FROM gone))
      SELECT count(*)::int AS n FROM gone`,
    values: [batch],
  }
}

/**
 * One cleanup batch of expired index entries whose record is not alive (an entry's own expiry is
 * a hint: a record touched past it keeps its entry).
 */
export function sweepIndexStatement(t: SchemaNames, batch: number): Statement {
  return {
    text: `WITH doomed AS (
        SELECT i.index_key, i.member_key FROM ${t.index} i
         WHERE i.expires_at <= now()
           AND NOT EXISTS (SELECT 1 FROM ${t.records} r WHERE r.key = i.member_key AND r.expires_at > now())
         ORDER BY i.expires_at LIMIT $1 FOR UPDATE SKIP LOCKED),
      gone AS (DELETE FROM ${t.index} WHERE (index_key, member_key) IN (SELECT index_key, member_key FROM doomed) RETURNING 1)
      SELECT count(*)::int AS n FROM gone`,
    values: [batch],
  }
}

// PostgreSQL text (and so jsonb) cannot hold U+0000. login-manager never writes it (its values
// are JSON with control characters escaped), but the store contract takes any string, so a name
// or value holding it, or starting with the escape character, is stored escaped: U+0001, then
// the string with U+0001 → U+0001 U+0001 and U+0000 → U+0001 U+0002. Deterministic, so
// `expect` compares escaped values.
const ESCAPE = '\u0001'
const NUL = '\u0000'

/** A field name or value as stored. */
export function encodeText(text: string): string {
  if (text.charCodeAt(0) !== 1 && !text.includes(NUL)) return text
  return ESCAPE + text.replaceAll(ESCAPE, '\u0001\u0001').replaceAll(NUL, '\u0001\u0002')
}

/** The inverse of {@link encodeText}. */
export function decodeText(stored: string): string {
  if (stored.charCodeAt(0) !== 1) return stored
  let out = ''
  for (let i = 1; i < stored.length; i++) {
    const c = stored[i] as string
    if (c === ESCAPE && i + 1 < stored.length) {
      out += stored[++i] === '\u0002' ? NUL : ESCAPE
    } else out += c
  }
  return out
}

/** JSON of a fields object, names and values encoded. */
export function encodeFields(fields: Readonly<Record<string, string>>): string {
  let plain = true
  for (const name of Object.keys(fields)) {
    const value = fields[name] as string
    if (name.charCodeAt(0) === 1 || name.includes('\u0000')) plain = false
    if (value.charCodeAt(0) === 1 || value.includes('\u0000')) plain = false
  }
  if (plain) return JSON.stringify(fields)
  const out: Record<string, string> = Object.create(null)
  for (const name of Object.keys(fields)) {
    out[encodeText(name)] = encodeText(fields[name] as string)
  }
  return JSON.stringify(out)
}

/** A stored fields object (parsed by pg) as a fresh null-prototype record of strings. */
export function decodeFields(stored: unknown): Record<string, string> | null {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return null
  const out: Record<string, string> = Object.create(null)
  const source = stored as Record<string, unknown>
  for (const name of Object.keys(source)) {
    const value = source[name]
    if (typeof value !== 'string') return null
    out[decodeText(name)] = decodeText(value)
  }
  return out
}
