/**
 * The per-manager session-protection identifier cache (`ClientIdentifiers` in
 * src/core/session-protection.ts) against hashing "address|user agent" on every request.
 *
 *   npx tsx --conditions=login-manager-source bench/micro/identifier-cache.bench.ts
 */
import { ClientIdentifiers } from '../../src/core/session-protection.ts'
import { sha256Base64url } from '../../src/crypto/hash.ts'
import { pair } from './pair.ts'

const AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'
const clients = Array.from({ length: 100 }, (_, i) => `10.0.${i >> 8}.${i & 255}`)

const uncached = (address: string, agent: string) =>
  sha256Base64url(`${address}|${agent}`).slice(0, 22)

const same = new ClientIdentifiers()
await pair(
  'one client, request after request',
  () => same.of('127.0.0.1', AGENT),
  () => uncached('127.0.0.1', AGENT),
)

const many = new ClientIdentifiers()
let i = 0
let j = 0
await pair(
  '100 clients in turn (the map, not the last-client check)',
  () => many.of(clients[i++ % 100] as string, AGENT),
  () => uncached(clients[j++ % 100] as string, AGENT),
)
