import { getCookie, getCookies } from '../cookie/parse.ts'
import type { LoadResult } from '../session/backend.ts'
import { Session } from '../session/session.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { CookieRejection } from '../shared/rejections.ts'
import type { AdapterRequest, UserId } from '../shared/types.ts'
import type { ManagerInternals } from './manager-internals.ts'
import type { ResolvedOptions } from './options.ts'
import { type AuthOutcome, respond } from './outcome.ts'
import { RememberState } from './remember/state.ts'
import { RequestInfo } from './request-info.ts'

/** A session's clock may run this far ahead of ours before its times count as forged. */
const SKEW_SECONDS = 60

/**
 * What one request knows and has decided so far, shared by the parts of the core that serve it
 * (user loading, login and logout, remember-me, the commit): its cookies, its session and where
 * that came from, the store's health, the writes to wait for, and what the commit must end.
 */
export class RequestState<User extends object, Id extends UserId, Auth> {
  readonly manager: ManagerInternals<User, Id, Auth>
  readonly options: ResolvedOptions
  readonly adapter: AdapterRequest
  /** The request's auth object, as loaders, handlers and listeners receive it. */
  readonly auth: Auth
  readonly remember = new RememberState()
  #request: RequestInfo | undefined
  #cookieHeader: string | undefined | null = null
  session: Session | undefined
  /** The request's session cookie when it was valid (the previous identity, for stores). */
  sessionValue: string | undefined
  /** The request carried a session cookie we could not use: delete it. */
  sessionRejected = false
  /** The session was opened with an older key: re-seal it. */
  sessionKeyRotated = false
  /** A login, remember-me restore or logout in this request: every session it presented ends. */
  endPresented = false
  /** The user whose login this request dropped (unknown or revoked): their data is not kept. */
  droppedUserId: UserId | undefined
  /** The 503 to answer because a remember-me restore failed on the store (`onStoreError: 'fail'`). */
  storeOutcome: AuthOutcome | undefined
  /** The store failed for this request: write nothing, keep the cookies for later. */
  storeDown = false
  /** Store writes to wait for; created by the first one (most requests have none). */
  pending: Promise<void>[] | undefined
  /**
   * Revocation: the id whose revocation voids this request's login. `undefined`: the loaded
   * sealed session's; `null`: none (a login in this request); a string: the sealed remember
   * token the login was restored from.
   */
  loginFrom: string | null | undefined
  /**
   * Revocation: this request ends the login it was sent (a logout, a login, a re-authentication,
   * a protection drop): at commit, the sealed session and the remember token it carried end.
   */
  endsLogin = false
  /** Revocation, at commit: what this request's login came from was ended while it ran. */
  #endedMeanwhile: boolean | undefined
  #identifier: string | undefined
  /** The clock, read once per request (seconds since the epoch). */
  #now = -1

  constructor(manager: ManagerInternals<User, Id, Auth>, adapter: AdapterRequest, auth: Auth) {
    this.manager = manager
    this.options = manager.options
    this.adapter = adapter
    this.auth = auth
  }

  get request(): RequestInfo {
    if (this.#request === undefined)
      this.#request = new RequestInfo(this.adapter, this.options.origin)
    return this.#request
  }

  /** A cookie of the request; `undefined` when absent or empty. */
  cookie(name: string): string | undefined {
    if (this.#cookieHeader === null) this.#cookieHeader = this.adapter.header('cookie')
    if (this.#cookieHeader === undefined) return undefined
    const value = getCookie(this.#cookieHeader, name)
    return value === '' ? undefined : value
  }

  /** Every distinct, non-empty session cookie value of the request, in header order. */
  presentedSessions(): string[] {
    if (this.#cookieHeader === null) this.#cookieHeader = this.adapter.header('cookie')
    const values = new Set(getCookies(this.#cookieHeader, this.options.session.name))
    values.delete('')
    return [...values]
  }

  nowSeconds(): number {
    if (this.#now < 0) this.#now = Math.floor(this.options.now() / 1000)
    return this.#now
  }

  /** This client's session-protection identifier. */
  identifier(): string {
    if (this.#identifier === undefined) {
      this.#identifier = this.manager._identifiers.of(
        this.adapter.clientAddress ?? '',
        this.adapter.header('user-agent') ?? '',
      )
    }
    return this.#identifier
  }

  /** The request carries a session cookie: a store session must be loaded before it is read. */
  get hasSessionCookie(): boolean {
    return this.cookie(this.options.session.name) !== undefined
  }

  /**
   * The session, read synchronously: a cookie session decodes on first access.
   * @throws LoginManagerError `ERR_SESSION_NOT_LOADED` when a store session is read before it loaded.
   */
  sessionNow(): Session {
    if (this.session !== undefined) return this.session
    const value = this.cookie(this.options.session.name)
    if (value === undefined) return this.newSession()
    const loaded = this.manager._backend.load(value)
    if (loaded instanceof Promise) {
      loaded.catch(() => {})
      throw new LoginManagerError(
        'ERR_SESSION_NOT_LOADED',
        "this request's session is in the session store and nothing has loaded it yet: `await auth.getSession()` (or `await auth.getUser()`) before reading it, or load it before your handlers with the adapter's middleware or a guard (Express, Hono and Koa: `app.use(login.middleware)`; Fastify: `await app.register(login.plugin)`)",
      )
    }
    return this.#accept(loaded, value)
  }

  /** The session, loading it from the store first when needed. */
  async loadSession(): Promise<Session> {
    if (this.session !== undefined) return this.session
    const value = this.cookie(this.options.session.name)
    if (value === undefined) return this.newSession()
    const loaded = await this.manager._backend.load(value)
    return this.session ?? this.#accept(loaded, value)
  }

  newSession(): Session {
    const now = this.nowSeconds()
    this.session = new Session({ createdAt: now, lastActive: now, isNew: true })
    return this.session
  }

  /** Records a store failure; the 503 outcome when the app chose to fail, else `null`. */
  storeFailed(operation: string, error: unknown): AuthOutcome | null {
    this.storeDown = true
    if (this.session === undefined) this.newSession()
    this.manager._storeError(this.auth, operation, error)
    return this.options.session.onStoreError === 'fail' ? storeUnavailable() : null
  }

  /** Fires `cookieRejected`. */
  reject(cookie: 'session' | 'remember', reason: CookieRejection): void {
    this.manager.emit('cookieRejected', { auth: this.auth, cookie, reason })
  }

  /** Adds a store write the response waits for. */
  track(write: void | Promise<void> | undefined): void {
    if (!(write instanceof Promise)) return
    if (this.pending === undefined) this.pending = [write]
    else this.pending.push(write)
  }

  /** True when what this request's login came from was revoked while it ran (read once). */
  loginEndedMeanwhile(session: Session): boolean {
    if (this.#endedMeanwhile === undefined) {
      const from = this.loginFrom === undefined ? session._sid : this.loginFrom
      this.#endedMeanwhile = from != null && this.manager._revocations?.has(from) === true
    }
    return this.#endedMeanwhile
  }

  #accept(loaded: LoadResult, value: string): Session {
    if (!loaded.ok) {
      this.sessionRejected = true
      this.reject('session', loaded.reason)
      return this.newSession()
    }
    const { init } = loaded
    const now = this.nowSeconds()
    const { idleTimeout, absoluteTimeout } = this.options.session
    let reason: CookieRejection | undefined
    if (init.createdAt > now + SKEW_SECONDS || init.lastActive > now + SKEW_SECONDS) {
      reason = 'future-dated'
    } else if (now - init.lastActive > idleTimeout) reason = 'idle-timeout'
    else if (now - init.createdAt > absoluteTimeout) reason = 'absolute-timeout'
    if (reason !== undefined) {
      this.sessionRejected = true
      this.sessionValue = value
      this.reject('session', reason)
      return this.newSession()
    }
    this.sessionValue = value
    this.sessionKeyRotated = loaded.rotated
    this.session = new Session(init)
    return this.session
  }
}

/** The core's answer when the session store cannot be reached. */
export function storeUnavailable(): AuthOutcome {
  return respond(503, 'Service Unavailable: the session store cannot be reached', {
    'retry-after': '5',
  })
}
