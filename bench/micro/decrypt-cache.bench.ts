/**
 * The cookie backend's decrypt cache (`CookieSessionBackend.load` in
 * src/session/cookie-backend.ts): a sealed session value seen before is neither decrypted nor
 * parsed again. "without" opens and decodes the same value on every request.
 *
 *   npx tsx --conditions=login-manager-source bench/micro/decrypt-cache.bench.ts
 */
import { KeyRing } from '../../src/crypto/keys.ts'
import { randomBase64url } from '../../src/crypto/random.ts'
import { unseal } from '../../src/crypto/seal.ts'
import { CookieSessionBackend } from '../../src/session/cookie-backend.ts'
import { decodeCachedPayload } from '../../src/session/payload.ts'
import { Session } from '../../src/session/session.ts'
import { pair } from './pair.ts'

const NAME = '__Host-session'
const keys = new KeyRing([randomBase64url(32)]).forPurpose('session')
const backend = new CookieSessionBackend(keys, NAME)
const now = Math.floor(Date.now() / 1000)
const session = new Session({ createdAt: now, lastActive: now, isNew: true })
session._setAuth({ userId: 'leafstorm', fresh: true, identifier: 'q4C30eiJC20fj1rAYl3-qG' })
const { value } = backend.save(session, now, undefined, true)

await pair(
  'load a logged-in sealed session (then a Session from it)',
  () => {
    const loaded = backend.load(value)
    return loaded.ok ? new Session(loaded.init) : null
  },
  () => {
    const opened = unseal(keys, value, NAME)
    const init = opened.ok ? decodeCachedPayload(opened.plaintext) : null
    return init === null ? null : new Session(init)
  },
)
