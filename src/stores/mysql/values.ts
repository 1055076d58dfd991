/**
 * Conversions between login-manager's values and the rows of `MySqlStore`: argument checks,
 * the JSON merge patch a write sends, and a record read back.
 *
 * @module
 */

/** The widest key the key columns hold, in bytes. */
export const MAX_KEY_BYTES = 255

/** A JSON merge patch: the fields to set, and `null` for each one to remove (removal wins). */
export function patch(
  set: Readonly<Record<string, string>>,
  remove: readonly string[] | undefined,
): Record<string, string | null> {
  const out: Record<string, string | null> = Object.create(null)
  for (const [field, value] of Object.entries(set)) out[field] = value
  for (const field of remove ?? []) out[field] = null
  return out
}

/** A record's fields as read: an object of strings, or `null` for none. */
export function recordOf(value: unknown): Record<string, string> | null {
  const parsed =
    typeof value === 'string' || Buffer.isBuffer(value) ? JSON.parse(text(value)) : value
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null
  const out: Record<string, string> = Object.create(null)
  let any = false
  // Values are copied as stored: login-manager refuses (and deletes) a record with a value
  // that is not a string.
  for (const [field, item] of Object.entries(parsed)) {
    out[field] = item as string
    any = true
  }
  return any ? out : null
}

export function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value)
}

export function checkKey(key: unknown, operation: string): void {
  if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new RangeError(
      `MySqlStore.${operation}: a key must be a string of 1 to ${MAX_KEY_BYTES} bytes`,
    )
  }
}

export function wholeSeconds(ttl: number, operation: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
    throw new RangeError(`MySqlStore.${operation}: ttl must be a finite number of seconds`)
  }
  return Math.max(1, Math.ceil(ttl))
}
