import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
} from 'fastify'
import {
  type AdapterRequest,
  type AuthOutcome,
  type GuardedAuth,
  guardNotCalled,
  type LoginManager,
  middlewareMissing,
  notGuarded,
  type Reply,
  type RequestAuth,
  type RequestCycle,
  renderOutcome,
  startRequest,
  type UserId,
} from '../adapter/index.ts'
import { nodeHeader } from './node.ts'

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

class FastifyAdapterRequest implements AdapterRequest {
  readonly #request: FastifyRequest
  readonly caseSensitiveRouting: boolean
  constructor(request: FastifyRequest, caseSensitiveRouting: boolean) {
    this.#request = request
    this.caseSensitiveRouting = caseSensitiveRouting
  }
  get method() {
    return this.#request.method
  }
  get url() {
    return this.#request.url
  }
  header(name: string) {
    return nodeHeader(this.#request.headers, name)
  }
  get clientAddress() {
    return this.#request.ip // honours Fastify's `trustProxy`
  }
  get origin() {
    return `${this.#request.protocol}://${this.#request.host}`
  }
  get raw() {
    return this.#request
  }
}

const CYCLE = Symbol('login-manager.cycle')
const PASSED = Symbol('login-manager.guard-passed')
type Slots = { [CYCLE]: RequestCycle<object, UserId> | null; [PASSED]: boolean }

function sendReply(reply: FastifyReply, r: Reply): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body)
}

/** Drops every header of the reply, Fastify's own and those set on the Node response. */
function clearHeaders(reply: FastifyReply): void {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
  for (const name of reply.raw.getHeaderNames()) reply.raw.removeHeader(name)
}

/**
 * Creates the Fastify (v5) integration: a plugin that applies to the whole app (like other auth
 * plugins) and `preHandler` guards.
 * @throws LoginManagerError `ERR_NO_USER_LOADER` when the manager has no loader yet.
 * @example
 * ```ts
 * const login = fastifyLogin(manager)
 * await app.register(login.plugin)
 * app.get('/protected', { preHandler: login.loginRequired() }, (req) =>
 *   `Logged in as: ${login.guarded(req).user.id}`)
 * ```
 */
export function fastifyLogin<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
): FastifyLogin<User, Id> {
  manager.assertReady()
  const cycleOf = (request: FastifyRequest, what: string) => {
    const cycle = (request as unknown as Partial<Slots>)[CYCLE]
    if (cycle === undefined || cycle === null) {
      throw middlewareMissing(what, 'await app.register(login.plugin) before the routes')
    }
    return cycle as unknown as RequestCycle<User, Id>
  }

  async function loginManagerPlugin(app: FastifyInstance) {
    // Declared, so that every request has the same shape and storing is a plain write.
    app.decorateRequest(CYCLE, null)
    app.decorateRequest(PASSED, false)
    app.decorateRequest('auth', {
      getter(this: FastifyRequest) {
        return (this as unknown as Slots)[CYCLE]?.auth ?? null
      },
    })
    // `loginViews` prefixes match as Fastify's router does (`routerOptions.caseSensitive`).
    const config = app.initialConfig
    const caseSensitive =
      (config.routerOptions as { caseSensitive?: boolean } | undefined)?.caseSensitive ??
      config.caseSensitive ??
      true
    // Callback-style hooks: with cookie sessions nothing here needs a promise.
    app.addHook('onRequest', (request, reply, done) => {
      const cycle = startRequest(manager, new FastifyAdapterRequest(request, caseSensitive))
      ;(request as unknown as Slots)[CYCLE] = cycle as unknown as Slots[typeof CYCLE]
      const loading = cycle.ready()
      if (loading === null) done()
      else loading.then((r) => (r === null ? done() : sendReply(reply, r)), done)
    })
    app.addHook('onSend', (request, reply, payload, done) => {
      const finish = (request as unknown as Slots)[CYCLE]?.finish(reply.statusCode, {
        vary: reply.getHeader('vary')?.toString(),
        cacheControl: reply.getHeader('cache-control')?.toString(),
      })
      if (finish === null || finish === undefined) return done(null, payload)
      // Fastify appends to an existing set-cookie header rather than replacing it.
      if (finish.setCookie.length > 0) reply.header('set-cookie', finish.setCookie)
      if (finish.vary !== undefined) reply.header('vary', finish.vary)
      if (finish.cacheControl !== undefined) reply.header('cache-control', finish.cacheControl)
      if (finish.writes === undefined) return done(null, payload)
      finish.writes.then((r) => {
        if (r === null) return done(null, payload)
        ;(payload as { destroy?: () => void } | null)?.destroy?.()
        clearHeaders(reply)
        reply.code(r.status).headers(r.headers)
        done(null, r.body)
      })
    })
  }
  // What fastify-plugin does, without depending on it: the plugin's hooks and decorators apply to
  // the whole app rather than to its own encapsulation context.
  const plugin = Object.assign(loginManagerPlugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'login-manager',
    [Symbol.for('plugin-meta')]: { fastify: '5.x', name: 'login-manager' },
  })

  const guard = (name: 'loginRequired' | 'freshLoginRequired') =>
    function guardFactory(none?: unknown, _reply?: unknown, done?: unknown): preHandlerHookHandler {
      if (none !== undefined) {
        // Fastify invoked the factory itself: `{ preHandler: login.loginRequired }`.
        const error = guardNotCalled(name, `{ preHandler: login.${name}() }`)
        if (typeof done !== 'function') throw error
        done(error)
        return undefined as never
      }
      const kind = name === 'loginRequired' ? 'login' : 'fresh'
      return function loginGuard(request, reply, next) {
        let decision: Reply | null | Promise<Reply | null>
        try {
          decision = cycleOf(request, `login.${name}()`).guard(kind)
        } catch (error) {
          next(error as Error)
          return
        }
        const proceed = (r: Reply | null) => {
          if (r !== null)
            return sendReply(reply, r) // answering from a hook: no next()
          ;(request as unknown as Slots)[PASSED] = true
          next()
        }
        if (decision instanceof Promise) decision.then(proceed, next)
        else proceed(decision)
      }
    }

  return {
    plugin,
    auth: (request) => cycleOf(request, 'login.auth(request)').auth,
    guarded(request) {
      const auth = cycleOf(request, 'login.guarded(request)').auth
      if (!(request as unknown as Slots)[PASSED]) {
        throw notGuarded(
          'login.guarded(request)',
          'put the route behind { preHandler: login.loginRequired() }, or use login.auth(request), whose user may be null',
        )
      }
      return auth as GuardedAuth<User, Id>
    },
    loginRequired: guard('loginRequired'),
    freshLoginRequired: guard('freshLoginRequired'),
    send: (reply, outcome) => sendReply(reply, renderOutcome(outcome)),
  }
}
