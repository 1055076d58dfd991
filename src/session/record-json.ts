/**
 * How session records are encoded for a store, and the checks a record passes before it is
 * parsed.
 *
 * Every field name and value login-manager writes is pure ASCII: JSON with every non-ASCII
 * character escaped as `\uXXXX`, and app keys escaped the same way in field names. Whatever a
 * store or its client does with bytes (a Redis client decoding invalid UTF-8 to U+FFFD, a latin1
 * SQL column, a JavaScript string holding a lone surrogate), a record that comes back with any
 * non-ASCII character was not written by login-manager and is refused. Records carry the field
 * {@link FORMAT_FIELD}; records of the earlier format (UTF-8 as is) are still read, refusing only
 * U+FFFD and lone surrogates.
 *
 * @module
 */

/** The field marking a record whose names and values are all ASCII. */
export const FORMAT_FIELD = 'e'
export const FORMAT_ASCII = '1'

/** Bytes a record may take (field names and values) once written; see {@link MAX_READ_BYTES}. */
export const MAX_RECORD_BYTES = 65_536

/**
 * Bytes a record may take when read: the write limit, plus room for fields written beside the
 * session's own (a remember-me link, bookkeeping).
 */
export const MAX_READ_BYTES = MAX_RECORD_BYTES + 1024

/** How deeply arrays and objects may nest in one stored value. */
export const MAX_JSON_DEPTH = 128

// Any UTF-16 unit above U+007F (surrogates included: no `u` flag).
const NON_ASCII = /[\u0080-\uffff]/
const NON_ASCII_ALL = /[\u0080-\uffff]/g
// U+FFFD is what a lenient decoder leaves of invalid UTF-8; a lone surrogate cannot be UTF-8.
const NOT_UTF8 = /\ufffd|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
// Printable ASCII but '"' and '\': such keys are their own field names.
const PLAIN_KEY = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

const escapeUnit = (unit: string): string =>
  `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`

/** `JSON.stringify(value)`, with every non-ASCII UTF-16 unit escaped as `\uXXXX`. */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value) as string
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, escapeUnit) : json
}

/** The field holding the app's value for `key`; `legacy` for a record of the earlier format. */
export function dataField(key: string, legacy = false): string {
  return legacy || PLAIN_KEY.test(key) ? `d:${key}` : `d:${asciiJson(key).slice(1, -1)}`
}

/** The app's key a `d:` field holds (`undefined` when its escapes are broken). */
export function keyOfDataField(name: string, legacy: boolean): string | undefined {
  const escaped = name.slice(2)
  if (legacy || !escaped.includes('\\')) return escaped
  try {
    return JSON.parse(`"${escaped}"`) as string
  } catch {
    return undefined
  }
}

/**
 * The bytes a field takes in the current format, or -1 when it cannot be part of a record
 * login-manager wrote: any non-ASCII character, or for a record of the earlier format, U+FFFD
 * or a lone surrogate. An earlier-format field is measured as it will be written back (six bytes
 * per non-ASCII unit), so that any record that is read can be written again.
 */
export function fieldBytes(name: string, value: string, legacy: boolean): number {
  if (!legacy) {
    return NON_ASCII.test(name) || NON_ASCII.test(value) ? -1 : name.length + value.length
  }
  if (NOT_UTF8.test(name) || NOT_UTF8.test(value)) return -1
  return escapedLength(name) + escapedLength(value)
}

function escapedLength(text: string): number {
  if (!NON_ASCII.test(text)) return text.length
  let length = text.length
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) length += 5
  return length
}

/**
 * Whether a text read back from a store can be one login-manager wrote with {@link asciiJson}:
 * ASCII only, or (a value of the earlier format) Unicode without U+FFFD or lone surrogates.
 */
export function isStoredText(text: string): boolean {
  return !NON_ASCII.test(text) || !NOT_UTF8.test(text)
}

/**
 * Whether arrays and objects nest at most `maxDepth` deep in `json`: one pass over the text,
 * skipping strings, before any parsing (so a hostile value cannot exhaust the stack later).
 */
export function withinDepth(json: string, maxDepth = MAX_JSON_DEPTH): boolean {
  // Each level needs an opening bracket: a shorter text cannot be too deep.
  if (json.length <= maxDepth) return true
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return false
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--
  }
  return true
}
