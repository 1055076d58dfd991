import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
} from 'fastify'
import type { GuardedAuth, RequestAuth } from '../core/auth.ts'
import { cacheControlFor } from '../core/cache-control.ts'
import { LoginManagerError } from '../core/errors.ts'
import type { LoginManager } from '../core/login-manager.ts'
import { encodeLocation } from '../core/next-url.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { RequestAdapter, UserId } from '../core/types.ts'
import { addVaryCookie, rawHeader } from './headers.ts'

/** The Fastify integration of one {@link LoginManager}. */
export interface FastifyLogin<User extends object, Id extends UserId = string> {
  /** `await app.register(login.plugin)`: decorates every request with `auth`. */
  readonly plugin: FastifyPluginAsync
  /** The typed auth object of a request (no declaration merging needed). */
  auth(request: FastifyRequest): RequestAuth<User, Id>
  /** The auth object after a guard ran: `user` is `User`. */
  guarded(request: FastifyRequest): GuardedAuth<User, Id>
  /** `preHandler` guard: redirect to the login view (or 401) unless logged in. */
  readonly loginRequired: preHandlerHookHandler
  /** `preHandler` guard: logged in and fresh. */
  readonly freshLoginRequired: preHandlerHookHandler
  /** Sends an outcome of `auth.unauthorized()` / `auth.needsRefresh()`. */
  send(reply: FastifyReply, outcome: AuthOutcome): FastifyReply
}

class FastifyRequestAdapter implements RequestAdapter {
  readonly #request: FastifyRequest
  readonly caseSensitiveRouting: boolean
  constructor(request: FastifyRequest, caseSensitiveRouting: boolean) {
    this.#request = request
    this.caseSensitiveRouting = caseSensitiveRouting
  }
  get method() {
    return this.#request.method
  }
  get pathWithQuery() {
    return this.#request.url
  }
  header(name: string): string | undefined {
    // From rawHeaders: reading req.headers would make Node build the whole object.
    return rawHeader(this.#request.raw.rawHeaders, name)
  }
  get clientAddress() {
    // Honours Fastify's `trustProxy` option.
    return this.#request.ip
  }
  get origin() {
    return `${this.#request.protocol}://${this.#request.host}`
  }
  get raw() {
    return this.#request
  }
}

const AUTH = Symbol('login-manager.auth')

// What fastify-plugin does, without depending on it: the plugin's hooks and decorator apply to the
// whole app (not only its own encapsulation context), and Fastify checks the version range.
function skipOverride(plugin: FastifyPluginAsync): FastifyPluginAsync {
  const marked = plugin as FastifyPluginAsync & Record<symbol, unknown>
  marked[Symbol.for('skip-override')] = true
  marked[Symbol.for('fastify.display-name')] = 'login-manager'
  marked[Symbol.for('plugin-meta')] = { fastify: '5.x', name: 'login-manager' }
  return plugin
}
type WithAuth = { [AUTH]?: RequestAuth<object, UserId> | null }

function sendOutcome(reply: FastifyReply, outcome: AuthOutcome): FastifyReply {
  if (outcome.type === 'redirect') {
    const location = encodeLocation(outcome.location)
    return reply
      .code(outcome.status)
      .header('location', location)
      .type('text/plain; charset=utf-8')
      .send(`Redirecting to ${location}`)
  }
  reply.code(outcome.status)
  for (const [name, value] of Object.entries(outcome.headers ?? {})) reply.header(name, value)
  if (outcome.body === undefined || outcome.body === null) return reply.send()
  if (typeof outcome.body === 'string') {
    if (!reply.hasHeader('content-type')) reply.type('text/plain; charset=utf-8')
  }
  return reply.send(outcome.body)
}

/**
 * Creates the Fastify (v5) integration: a plugin (encapsulation-free, like other auth plugins)
 * and `preHandler` guards.
 * @throws LoginManagerError `ERR_NO_USER_LOADER` when the manager has no loader yet.
 * @example
 * ```ts
 * const login = fastifyLogin(manager)
 * await app.register(login.plugin)
 * app.get('/protected', { preHandler: login.loginRequired }, (req) =>
 *   `Logged in as: ${login.guarded(req).user.id}`)
 * ```
 */
export function fastifyLogin<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
): FastifyLogin<User, Id> {
  manager.assertReady()

  const authOf = (request: FastifyRequest): RequestAuth<User, Id> => {
    const auth = (request as unknown as WithAuth)[AUTH]
    if (auth === undefined || auth === null) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'request.auth is missing: register login.plugin before the routes that use login-manager',
      )
    }
    return auth as unknown as RequestAuth<User, Id>
  }

  const plugin = skipOverride(async function loginManagerPlugin(app: FastifyInstance) {
    // Declared, so that Fastify sets it (to null) in its request constructor: every request has
    // the same shape, and storing the auth object is a plain write rather than a new property
    // (which costs Node's HTTP objects far more than the store itself).
    app.decorateRequest(AUTH, null)
    app.decorateRequest('auth', {
      getter(this: FastifyRequest) {
        return (this as unknown as WithAuth)[AUTH] ?? null
      },
    })
    // Fastify's router matches letter case unless told otherwise (`routerOptions.caseSensitive`,
    // or the older top-level `caseSensitive`); `loginViews` prefixes follow it.
    const config = app.initialConfig
    const caseSensitive =
      (config.routerOptions as { caseSensitive?: boolean } | undefined)?.caseSensitive ??
      config.caseSensitive ??
      true
    // Callback-style hooks: with cookie sessions nothing here needs a promise, and Fastify's
    // async hooks would cost one per request.
    app.addHook('onRequest', (request, reply, done) => {
      const auth = manager.createAuth(new FastifyRequestAdapter(request, caseSensitive))
      ;(request as unknown as WithAuth)[AUTH] = auth as unknown as RequestAuth<object, UserId>
      if (manager._backend.sync) {
        done()
        return
      }
      auth.prepare().then((unavailable) => {
        if (unavailable === null) done()
        else sendOutcome(reply, unavailable)
      }, done)
    })
    app.addHook('onSend', (request, reply, payload, done) => {
      const auth = (request as unknown as WithAuth)[AUTH]
      const effects = auth?.commit(reply.statusCode) ?? null
      if (effects === null) {
        done(null, payload)
        return
      }
      // Fastify appends to an existing set-cookie header rather than replacing it.
      if (effects.cookies.length > 0) reply.header('set-cookie', effects.cookies)
      if (effects.vary) {
        const vary = reply.getHeader('vary')
        const next = addVaryCookie(vary === undefined ? undefined : String(vary))
        if (next !== undefined) reply.header('vary', next)
      }
      const cacheControl = cacheControlFor(effects, reply.getHeader('cache-control'))
      if (cacheControl !== undefined) reply.header('cache-control', cacheControl)
      if (effects.pending === undefined) {
        done(null, payload)
        return
      }
      effects.pending.then((failure) => {
        if (failure === null) {
          done(null, payload)
          return
        }
        reply.removeHeader('set-cookie')
        reply.code(failure.status).type('text/plain; charset=utf-8')
        if (failure.type === 'respond') {
          for (const [name, value] of Object.entries(failure.headers ?? {})) {
            reply.header(name, value)
          }
        }
        done(
          null,
          failure.type === 'respond' && typeof failure.body === 'string'
            ? failure.body
            : 'Service Unavailable',
        )
      })
    })
  })

  const guard = (fresh: boolean): preHandlerHookHandler =>
    function loginGuard(request, reply, done) {
      let decision: AuthOutcome | null | Promise<AuthOutcome | null>
      try {
        decision = authOf(request).guard(fresh)
      } catch (error) {
        done(error as Error)
        return
      }
      const proceed = (outcome: AuthOutcome | null) => {
        // Responding from a hook: send, and do not call done().
        if (outcome === null) done()
        else sendOutcome(reply, outcome)
      }
      if (decision instanceof Promise) decision.then(proceed, done)
      else proceed(decision)
    }

  return {
    plugin,
    auth: authOf,
    guarded: (request) => authOf(request) as GuardedAuth<User, Id>,
    loginRequired: guard(false),
    freshLoginRequired: guard(true),
    send: sendOutcome,
  }
}
