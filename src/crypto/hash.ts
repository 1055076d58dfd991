import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** SHA-256 of a UTF-8 string, in base64url. */
export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

/** SHA-256 of a UTF-8 string, in lower-case hex. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/** SHA-1 of a UTF-8 string in hex: only for naming scripts the way Redis does (`EVALSHA`). */
export function sha1Hex(value: string): string {
  return createHash('sha1').update(value).digest('hex')
}

/** HMAC-SHA-256 of a UTF-8 string under `key`, in base64url. */
export function hmacSha256Base64url(key: Uint8Array, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url')
}

/** Compares two strings in time that depends only on their length. */
export function constantTimeEqual(presented: string, expected: string): boolean {
  const a = Buffer.from(presented)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
