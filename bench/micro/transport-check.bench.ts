/**
 * The insecure-login check (`_checkLoginTransport` in src/core/login-manager.ts) remembers the
 * origin it last found fine, against deciding afresh on every login (which builds a `URL` from
 * the request's origin and path).
 *
 *   npx tsx --conditions=login-manager-source bench/micro/transport-check.bench.ts
 */
import { randomBytes } from 'node:crypto'
import { RequestInfo } from '../../src/core/request-info.ts'
import { insecureLoginWarning } from '../../src/core/warnings.ts'
import type { AdapterRequest } from '../../src/shared/types.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { pair } from './pair.ts'

const manager = createBenchManager(randomBytes(32).toString('base64url'))
// A login form posted on the development server: plain HTTP on a loopback host, no Origin header
// (the case that cannot be decided from the header alone).
const adapter: AdapterRequest = {
  method: 'POST',
  url: '/login',
  header: (name) => (name === 'content-type' ? 'application/x-www-form-urlencoded' : undefined),
  clientAddress: '127.0.0.1',
  origin: 'http://127.0.0.1:3000',
  raw: null,
}

await pair(
  'a login from an origin already found fine',
  () => manager._checkLoginTransport(new RequestInfo(adapter)),
  () => insecureLoginWarning(new RequestInfo(adapter), manager.options),
)
