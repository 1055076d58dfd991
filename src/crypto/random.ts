import { randomBytes, randomUUID } from 'node:crypto'

/** `size` bytes from the CSPRNG, in base64url. */
export function randomBase64url(size: number): string {
  return randomBytes(size).toString('base64url')
}

/** A random RFC 4122 version 4 UUID. */
export function randomUuid(): string {
  return randomUUID()
}
