// The floor: what a login guard must do on the protected route, hand-written with login-manager's
// own parsing and crypto and nothing else (no auth object, no session object, no events, no
// remember-me, no response hook). Not a usable library: a reference that shows how much of the
// budget the work itself takes on the machine at hand, whoever writes it. Same manager, cookie and
// user loader as the login-manager servers; the cache of opened seals mirrors the cookie backend's.
import { createHash } from 'node:crypto'
import { loadUser, type User } from '../../examples/basic/users.ts'
import { createBenchManager } from './login-manager-app.ts'

// The built modules (what the other servers run, through the package's exports), typed from src/:
// these internals are not exported, and dist/ does not exist before `npm run build`.
const built = <T>(path: string): Promise<T> =>
  import(new URL(`../../dist/${path}`, import.meta.url).href)
const { getCookie } = await built<typeof import('../../src/cookie/parse.ts')>('cookie/parse.js')
const { unseal } = await built<typeof import('../../src/crypto/seal.ts')>('crypto/seal.js')
const { decodeCachedPayload } =
  await built<typeof import('../../src/session/payload.ts')>('session/payload.js')

type Init = ReturnType<typeof decodeCachedPayload>

/**
 * The guard's work for one request: the user of the session cookie in `cookieHeader`, bound to the
 * client (`address`, `userAgent`) as session protection binds it, or null (answer 401). The caller
 * adds `Vary: Cookie` to its response.
 */
export function createFloor(
  secret: string,
): (
  cookieHeader: string | undefined,
  address: string | undefined,
  userAgent: string | undefined,
) => User | null {
  const manager = createBenchManager(secret)
  const keys = manager._keys.forPurpose('session')
  const { name, idleTimeout, absoluteTimeout } = manager.options.session
  const opened = new Map<string, Init>()
  let lastClient = ''
  let lastIdentifier = ''
  return (cookieHeader, address, userAgent) => {
    const value = getCookie(cookieHeader, name)
    if (value === undefined) return null
    let init = opened.get(value)
    if (init === undefined) {
      const result = unseal(keys, value, name)
      init = result.ok ? decodeCachedPayload(result.plaintext) : null
      if (opened.size < 10_000) opened.set(value, init)
    }
    const now = Math.floor(Date.now() / 1000)
    const auth = init?.auth
    if (
      init == null ||
      auth?.userId === undefined ||
      now - init.lastActive > idleTimeout ||
      now - init.createdAt > absoluteTimeout
    ) {
      return null
    }
    // Session protection: the client's identifier, hashed once per client. A mismatch ends the
    // login here (strong mode's answer; basic mode would re-seal the session as not fresh).
    const client = `${address}|${userAgent}`
    if (client !== lastClient) {
      lastClient = client
      lastIdentifier = createHash('sha256').update(client).digest('base64url').slice(0, 22)
    }
    const bound = auth.identifier === lastIdentifier || auth.identifier === null
    return bound ? loadUser(String(auth.userId)) : null
  }
}
