import type { LoginManager } from '../core/login-manager.ts'
import { Session } from '../session/session.ts'
import type { UserId } from '../shared/types.ts'

/** Options of {@link testLogin}. */
export interface TestLoginOptions {
  /** Log in freshly (as after a password), or as restored from remember-me. @default true */
  fresh?: boolean
  /** Also issue a remember-me cookie. @default false */
  remember?: boolean
}

/** One cookie the test client should send. */
export interface TestCookie {
  readonly name: string
  readonly value: string
}

/**
 * The cookies of a session in which `user` is logged in — Flask's `FlaskLoginClient` for any
 * framework. The session binds to the first client that uses it, so session protection
 * (basic or strong) keeps the user logged in with the freshness you chose.
 *
 * @example
 * ```ts
 * const cookies = await loginCookies(manager, alice)
 * ```
 */
export async function loginCookies<User extends object, Id extends UserId>(
  manager: LoginManager<User, Id>,
  user: User,
  options: TestLoginOptions = {},
): Promise<TestCookie[]> {
  const o = manager.options
  const now = Math.floor(o.now() / 1000)
  const session = new Session({ createdAt: now, lastActive: now, isNew: true })
  const userId = manager._userIdOf(user)
  const version = manager._versionOf(user)
  session._setAuth({
    userId,
    fresh: options.fresh !== false,
    identifier: null,
    ...(version === undefined ? {} : { version }),
  })
  const saved = manager._backend.save(session, now, undefined, true)
  await saved.pending
  const cookies: TestCookie[] = [{ name: o.session.name, value: saved.value }]
  if (options.remember === true) {
    const tokens = manager._rememberTokens
    let value: string
    if (tokens === undefined) {
      value = manager._remember.encode(userId, o.remember.duration, version, now)
    } else {
      // With a session store, remember-me tokens live there too.
      const issued = tokens.issue(userId, o.remember.duration, version, now)
      await issued.pending
      value = issued.value
    }
    cookies.push({ name: o.remember.name, value })
  }
  return cookies
}

/**
 * A `Cookie` request-header value that logs `user` in: pass it to supertest's `.set('Cookie', …)`
 * or to `fetch(url, { headers: { cookie } })`.
 *
 * @example
 * ```ts
 * const cookie = await testLogin(manager, alice, { fresh: false })
 * const res = await fetch(`${base}/protected`, { headers: { cookie } })
 * ```
 */
export async function testLogin<User extends object, Id extends UserId>(
  manager: LoginManager<User, Id>,
  user: User,
  options: TestLoginOptions = {},
): Promise<string> {
  const cookies = await loginCookies(manager, user, options)
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ')
}

export { runStoreConformance } from '../stores/conformance.ts'
