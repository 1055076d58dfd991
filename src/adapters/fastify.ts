import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify'
import {
  assertGuardCalled,
  type GuardedAuth,
  type LoginManager,
  middlewareMissing,
  notGuarded,
  type Reply,
  type RequestCycle,
  renderOutcome,
  startRequest,
  type UserId,
} from '../adapter/index.ts'
import type { FastifyLogin } from './fastify-types.ts'
import { NodeAdapterRequest, type NodeRequestReader } from './node.ts'

export type { FastifyLogin } from './fastify-types.ts'

/** How Fastify answers the request facts; `caseSensitiveRouting` is the app's router option. */
const reader = (caseSensitive: boolean): NodeRequestReader<FastifyRequest> => ({
  url: (request) => request.url,
  clientAddress: (request) => request.ip, // honours Fastify's `trustProxy`
  origin: (request) => `${request.protocol}://${request.host}`,
  caseSensitiveRouting: () => caseSensitive,
})

const CYCLE = Symbol('login-manager.cycle')
const PASSED = Symbol('login-manager.guard-passed')
type Slots = { [CYCLE]: RequestCycle<object, UserId> | null; [PASSED]: boolean }
const slots = (request: FastifyRequest) => request as unknown as Slots

function sendReply(reply: FastifyReply, r: Reply): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body)
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
    const cycle = slots(request)[CYCLE]
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
        return slots(this)[CYCLE]?.auth ?? null
      },
    })
    // `loginViews` prefixes match as Fastify's router does (`routerOptions.caseSensitive`).
    const config = app.initialConfig
    const caseSensitive =
      (config.routerOptions as { caseSensitive?: boolean } | undefined)?.caseSensitive ??
      config.caseSensitive ??
      true
    const facts = reader(caseSensitive)
    // Callback-style hooks: with cookie sessions nothing here needs a promise.
    app.addHook('onRequest', (request, reply, done) => {
      const cycle = startRequest(manager, new NodeAdapterRequest(request, facts))
      slots(request)[CYCLE] = cycle as unknown as Slots[typeof CYCLE]
      const loading = cycle.ready()
      if (loading === null) done()
      else loading.then((r) => (r === null ? done() : sendReply(reply, r)), done)
    })
    app.addHook('onSend', (request, reply, payload, done) => {
      const finish = slots(request)[CYCLE]?.finish(reply.statusCode, {
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
        // Every header goes, Fastify's own and any set on the Node response.
        for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
        for (const name of reply.raw.getHeaderNames()) reply.raw.removeHeader(name)
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
    function guardFactory(none?: undefined): preHandlerHookHandler {
      assertGuardCalled(name, none, `{ preHandler: login.${name}() }`)
      const kind = name === 'loginRequired' ? 'login' : 'fresh'
      // Fastify passes what a hook throws to its error handler.
      return function loginGuard(request, reply, next) {
        const decision = cycleOf(request, `login.${name}()`).guard(kind)
        const proceed = (r: Reply | null) => {
          if (r !== null) return sendReply(reply, r) // answering from a hook: no next()
          slots(request)[PASSED] = true
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
      if (!slots(request)[PASSED]) {
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
