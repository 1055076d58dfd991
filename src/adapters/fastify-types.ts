import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
} from 'fastify'
import type {
  AuthOutcome,
  GuardedAuth,
  LoginManager,
  RequestAuth,
  UserId,
} from '../adapter/index.ts'

/** The Fastify integration of one {@link LoginManager}. */
export interface FastifyLogin<User extends object, Id extends UserId = string> {
  /** `await app.register(login.plugin)`: gives every request of the app its auth object. */
  readonly plugin: FastifyPluginAsync
  /**
   * The typed auth object of a request (no declaration merging needed).
   * @throws LoginManagerError `ERR_MIDDLEWARE_MISSING` when the plugin is not registered.
   */
  auth(request: FastifyRequest): RequestAuth<User, Id>
  /**
   * The auth object of a request a login guard let through: `user` is `User`.
   * @throws LoginManagerError `ERR_NOT_GUARDED` on a route without a login guard.
   */
  guarded(request: FastifyRequest): GuardedAuth<User, Id>
  /** `{ preHandler: login.loginRequired() }`: redirect to the login view (or 401) unless logged in. */
  loginRequired(none?: undefined): preHandlerHookHandler
  /** `{ preHandler: login.freshLoginRequired() }`: logged in, and the login is fresh. */
  freshLoginRequired(none?: undefined): preHandlerHookHandler
  /** Sends an outcome of `auth.unauthorized()` / `auth.needsRefresh()` (or your own). */
  send(reply: FastifyReply, outcome: AuthOutcome): FastifyReply
}
