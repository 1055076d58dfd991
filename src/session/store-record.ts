/**
 * A session as a store record and back: the fields a save writes (all of them for a new record,
 * only the changed ones for an update), the size and depth checks made before anything is
 * written, and the decoding of a record read back. Kept apart from the backend, which moves
 * records between ids in the store, so that the record format can be read on its own.
 *
 * @module
 */

import { LoginManagerError } from '../shared/errors.ts'
import { compactAuth, compactFlashes, fromCompact, type OwnedSessionInit } from './payload.ts'
import {
  asciiJson,
  dataField,
  FORMAT_ASCII,
  FORMAT_FIELD,
  fieldBytes,
  keyOfDataField,
  MAX_JSON_DEPTH,
  MAX_READ_BYTES,
  MAX_RECORD_BYTES,
  withinDepth,
} from './record-json.ts'
import type { Session } from './session.ts'

/** What a session's save needs to know of the record it was read from. */
export interface RecordInfo {
  /** Written in the earlier format (names and values UTF-8 as is). */
  readonly legacy: boolean
  /** The record's fields as read. */
  readonly fields: Readonly<Record<string, string>>
  /** The bytes of the whole record, as the current format writes it. */
  readonly total: number
}

/** The bytes a field of a record read takes in the current format. */
export function sizeIn(read: RecordInfo, name: string): number {
  const value = read.fields[name]
  return value === undefined ? 0 : fieldBytes(name, value, read.legacy)
}

export function encodeFields(session: Session<object>, lastActive: number): Record<string, string> {
  const fields: Record<string, string> = {
    c: String(session._createdAt),
    t: String(lastActive),
    p: session._permanent ? '1' : '0',
    [FORMAT_FIELD]: FORMAT_ASCII,
  }
  const auth = compactAuth(session._auth)
  if (auth !== undefined) fields.a = asciiJson(auth)
  const flashes = compactFlashes(session._flashes)
  if (flashes !== undefined) fields.f = asciiJson(flashes)
  for (const key of Object.keys(session._data)) {
    fields[dataField(key)] = encodeValue(key, session._data[key])
  }
  return fields
}

/** The changed fields; `legacy`: named for a record of the earlier format. */
export function changedFields(session: Session<object>, lastActive: number, legacy: boolean) {
  const changes = session._changes
  const set: Record<string, string> = { t: String(lastActive) }
  const remove: string[] = []
  if (changes.permanent) set.p = session._permanent ? '1' : '0'
  if (changes.auth) {
    const auth = compactAuth(session._auth)
    if (auth === undefined) remove.push('a')
    else set.a = asciiJson(auth)
  }
  if (changes.flashes) {
    const flashes = compactFlashes(session._flashes)
    if (flashes === undefined) remove.push('f')
    else set.f = asciiJson(flashes)
  }
  for (const key of changes.set) {
    set[dataField(key, legacy)] = encodeValue(key, session._data[key])
  }
  for (const key of changes.removed) remove.push(dataField(key, legacy))
  return { set, remove }
}

/** The app's value as stored. @throws LoginManagerError `ERR_SESSION_TOO_LARGE` for a value too deep to encode. */
function encodeValue(key: string, value: unknown): string {
  try {
    return asciiJson(value)
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
    throw tooDeep(`'${key}'`)
  }
}

function tooDeep(label: string): LoginManagerError {
  return new LoginManagerError(
    'ERR_SESSION_TOO_LARGE',
    `the session value ${label} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep, deeper than a stored session may hold. Keep such data in your database and only ids in the session.`,
  )
}

/** What a field holds, for error messages: the app's key by name, login-manager's own fields described. */
function describeField(name: string): string {
  if (name.startsWith('d:')) return `'${keyOfDataField(name, false) ?? name.slice(2)}'`
  if (name === 'a') return 'the login state'
  if (name === 'f') return 'flash messages'
  return `the '${name}' field`
}

/**
 * Refuses, before anything is written, a write that would leave the record over
 * {@link MAX_RECORD_BYTES} (unless it does not grow it: a session that was read can always be
 * written back, logged out or rotated) or with a value nested too deep to be read back.
 * `read`: the record the write replaces (`create`) or changes (`update`); `extra`: bytes
 * written beside `set`.
 * @throws LoginManagerError `ERR_SESSION_TOO_LARGE`
 */
export function checkRecord(
  mode: 'create' | 'update',
  set: Readonly<Record<string, string>>,
  remove: readonly string[],
  read: RecordInfo | undefined,
  extra: number,
): void {
  const sizes = new Map<string, number>()
  if (mode === 'update' && read !== undefined) {
    for (const name of Object.keys(read.fields)) sizes.set(name, sizeIn(read, name))
  }
  for (const name of remove) sizes.delete(name)
  for (const name of Object.keys(set)) {
    const value = set[name] as string
    if ((name === 'a' || name === 'f' || name.startsWith('d:')) && !withinDepth(value)) {
      throw tooDeep(describeField(name))
    }
    sizes.set(name, name.length + value.length)
  }
  let total = extra
  for (const bytes of sizes.values()) total += bytes
  if (total <= MAX_RECORD_BYTES || total <= (read?.total ?? 0)) return
  const largest = [...sizes]
    .filter(([name]) => name === 'a' || name === 'f' || name.startsWith('d:'))
    .sort((x, y) => y[1] - x[1])
    .slice(0, 3)
    .map(([name, bytes]) => `${describeField(name)} (${bytes} bytes)`)
    .join(', ')
  throw new LoginManagerError(
    'ERR_SESSION_TOO_LARGE',
    `the stored session would be ${total} bytes, over the ${MAX_RECORD_BYTES}-byte limit of a session record; largest entries: ${largest || '(none)'}. Keep big values in your database and only ids in the session.`,
  )
}

/** A record read back: the session, and what its next save needs to know; `null` when it does not decode. */
export function decodeFields(
  fields: Record<string, string>,
): { init: OwnedSessionInit; record: RecordInfo } | null {
  // Sizes and characters first, in one cheap pass over the strings: nothing is parsed before
  // the whole record is known to be within limits.
  const legacy = fields[FORMAT_FIELD] !== FORMAT_ASCII
  // Written back, an earlier-format record gains the format field.
  let total = legacy ? FORMAT_FIELD.length + FORMAT_ASCII.length : 0
  for (const name of Object.keys(fields)) {
    const value = fields[name]
    if (typeof value !== 'string') return null
    const bytes = fieldBytes(name, value, legacy)
    if (bytes < 0) return null
    total += bytes
    if (total > MAX_READ_BYTES) return null
  }
  try {
    const data: Record<string, unknown> = Object.create(null)
    for (const name of Object.keys(fields)) {
      if (!name.startsWith('d:')) continue
      const key = keyOfDataField(name, legacy)
      if (key === undefined) return null
      data[key] = parseValue(fields[name] as string)
    }
    const init = fromCompact({
      c: Number(fields.c),
      t: Number(fields.t),
      p: fields.p === '1' ? 1 : 0,
      a: fields.a === undefined ? undefined : parseValue(fields.a),
      f: fields.f === undefined ? undefined : parseValue(fields.f),
      d: data,
    })
    return init === null ? null : { init, record: { legacy, fields, total } }
  } catch {
    return null
  }
}

function parseValue(json: string): unknown {
  if (!withinDepth(json)) throw new RangeError('nested too deep')
  return JSON.parse(json)
}
