import type { SessionStore } from '../session/store.ts'
import { decodeFields, REMEMBER_LINK } from '../session/store-backend.ts'
import { hashSecret, type StoreKeys } from '../session/store-keys.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { UserId } from '../shared/types.ts'
import type { StoreRememberTokens } from './remember/store-tokens.ts'
import type { RememberStrategy } from './remember/strategy.ts'
import type { RequestState } from './request-state.ts'

/** The most `destroyIndex` passes of one `logoutEverywhere` (each after the first catches a race). */
const LOGOUT_PASSES = 8

/** One server-side session of a user, as {@link Devices.listSessions} reports it. */
export interface SessionInfo {
  /** Opaque; pass it to `revokeSession`. Not the session id (that never leaves the cookie). */
  readonly handle: string
  /** Seconds since the epoch. */
  readonly createdAt: number
  /** Seconds since the epoch. */
  readonly lastActive: number
}

/**
 * A user's devices with server-side sessions: the sessions they have open, ending one of them
 * (with the remember-me token of the same device), and ending all of them. Cookie sessions have
 * no server-side list: every operation throws `ERR_NO_STORE` there.
 */
export class Devices {
  readonly #store: SessionStore | undefined
  readonly #keys: StoreKeys | undefined
  readonly #tokens: StoreRememberTokens | undefined

  constructor(
    store: SessionStore | undefined,
    keys: StoreKeys | undefined,
    tokens: StoreRememberTokens | undefined,
  ) {
    this.#store = store
    this.#keys = keys
    this.#tokens = tokens
  }

  /** True with server-side sessions. */
  get available(): boolean {
    return this.#store !== undefined && this.#keys !== undefined
  }

  async listSessions(userId: UserId): Promise<SessionInfo[]> {
    const { store, keys } = this.#require('listSessions')
    const sessions: SessionInfo[] = []
    for (const tag of keys.userTags(userId)) {
      for (const key of await store.members(keys.index(tag))) {
        // The index also lists the user's remember-me tokens: only sessions are reported.
        const parts = keys.sessionParts(key)
        if (parts === undefined || parts.tag !== tag) continue
        const fields = await store.get(key)
        // A record that does not decode is no session (its next read deletes it).
        const decoded = fields === null ? null : decodeFields(fields)
        if (decoded === null) continue
        sessions.push({
          handle: `${tag}.${parts.idHash}`,
          createdAt: decoded.init.createdAt,
          lastActive: decoded.init.lastActive,
        })
      }
    }
    return sessions.sort((a, b) => b.lastActive - a.lastActive)
  }

  async revokeSession(userId: UserId, handle: string): Promise<boolean> {
    const { store, keys } = this.#require('revokeSession')
    const dot = handle.indexOf('.')
    const tag = handle.slice(0, dot)
    const tags = keys.userTags(userId)
    if (dot === -1 || !tags.includes(tag)) return false
    const key = keys.sessionByHash(tag, handle.slice(dot + 1))
    const fields = await store.get(key)
    if (fields === null) return false
    // The token first: should the second step fail, the session is still there to revoke again.
    const token = fields[REMEMBER_LINK]
    const tokenTag = token === undefined ? undefined : keys.rememberTag(token)
    const linked = token !== undefined && tokenTag !== undefined && tags.includes(tokenTag)
    if (linked) await store.destroy(token, keys.index(tokenTag))
    await store.destroy(key, keys.index(tag))
    // A restore from the token that was in flight wrote its session before the token went (or
    // cannot write it at all): it is found by its link.
    if (linked) await this.#tokens?.endLinkedSessions(userId, token)
    return true
  }

  async logoutEverywhere(userId: UserId, keep: readonly string[] = []): Promise<number> {
    const { store, keys } = this.#require('logoutEverywhere')
    const indexes = keys.userTags(userId).map((tag) => keys.index(tag))
    let count = 0
    // Until a pass ends nothing: a restore or a rotation racing a pass is written only while
    // the token or record it stands on exists, so it lands before that goes, and the next pass
    // finds it in the index. (A new login with a password is a new login, and stays.)
    for (let pass = 0; pass < LOGOUT_PASSES; pass++) {
      let ended = 0
      for (const index of indexes) ended += await store.destroyIndex(index, keep)
      count += ended
      if (ended === 0) break
    }
    return count
  }

  /**
   * Ends every other session and remember-me token of the request's user, keeping this
   * device's: the request's session (loaded) and the token its remember cookie names.
   */
  async logoutOtherDevices<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    remember: RememberStrategy,
    loggedIn: boolean,
  ): Promise<number> {
    const { keys } = this.#require('logoutOtherDevices')
    const session = state.sessionNow()
    if (!loggedIn || session._auth.userId === undefined) return 0
    const keep: string[] = []
    if (session._handle !== undefined) {
      keep.push(keys.session(session._handle.tag, session._handle.id))
    }
    const rememberKey = remember.deviceKey(state)
    if (rememberKey !== undefined) keep.push(rememberKey)
    return this.logoutEverywhere(session._auth.userId, keep)
  }

  /** The handle {@link listSessions} gives a loaded session, or `undefined`. */
  handleOf(handle: { readonly tag: string; readonly id: string } | undefined): string | undefined {
    if (handle === undefined || this.#keys === undefined) return undefined
    return `${handle.tag}.${hashSecret(handle.id)}`
  }

  #require(operation: string): { store: SessionStore; keys: StoreKeys } {
    if (this.#store === undefined || this.#keys === undefined) {
      throw new LoginManagerError(
        'ERR_NO_STORE',
        operation === 'logoutOtherDevices'
          ? "logoutOtherDevices: needs server-side sessions (session.store); with cookie sessions, bump the user's sessionVersion"
          : `${operation}: needs server-side sessions (session.store); with cookie sessions, bump the user's sessionVersion to end all their sessions`,
      )
    }
    return { store: this.#store, keys: this.#keys }
  }
}
