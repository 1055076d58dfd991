import type { SessionBackend } from '../session/backend.ts'
import type { RevocationList } from '../session/revocations.ts'
import type { StoreKeys } from '../session/store-keys.ts'
import type { MaybePromise, UserId } from '../shared/types.ts'
import type { AuthEvents } from './events.ts'
import type { ResolvedOptions } from './options.ts'
import type { AuthOutcome } from './outcome.ts'
import type { RequestInfo } from './request-info.ts'
import type { ClientIdentifiers } from './session-protection.ts'

/**
 * What the per-request parts of the core use of their manager. `Auth` is the request's auth
 * object, passed through untouched to loaders, handlers and event listeners: the parts never
 * call it, so they do not depend on the facade that assembles them.
 */
export interface ManagerInternals<User extends object, Id extends UserId, Auth> {
  readonly options: ResolvedOptions
  readonly _backend: SessionBackend
  readonly _storeKeys: StoreKeys | undefined
  readonly _revocations: RevocationList | undefined
  readonly _identifiers: ClientIdentifiers
  readonly _handlers: {
    readonly unauthorized?: ((auth: Auth) => MaybePromise<AuthOutcome>) | undefined
    readonly needsRefresh?: ((auth: Auth) => MaybePromise<AuthOutcome>) | undefined
  }
  readonly userCallback: ((id: Id) => MaybePromise<User | null>) | undefined
  readonly requestCallback:
    | ((request: RequestInfo, auth: Auth) => MaybePromise<User | null>)
    | undefined
  emit<K extends keyof AuthEvents<User, Id, Auth>>(
    event: K,
    payload: AuthEvents<User, Id, Auth>[K],
  ): void
  hasListeners(event: keyof AuthEvents<User, Id, Auth>): boolean
  _storeError(auth: Auth | undefined, operation: string, error: unknown): void
  _checkLoginTransport(request: RequestInfo): void
  _checkLostLogin(id: UserId, answer: unknown, ageSeconds: number): void
  _localize(message: string): string
  _anonymousUser(): object
  _userIdOf(user: User): Id
  _versionOf(user: User): string | number | undefined
  _versionMatches(user: User, stored: string | number | undefined): boolean
}
