// Type tests: compiled by `npm run typecheck` (tsc includes test/), never run. Each
// `@ts-expect-error` is a negative test: if the line ever compiles, the typecheck fails.
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import {
  type GuardedAuth,
  type KeepOnLogin,
  LoginManager,
  type RequestAuth,
  UserMixin,
} from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { fastifyLogin } from 'login-manager/fastify'
import { fetchLogin } from 'login-manager/fetch'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { type AuthState, type GuardedState, koaLogin } from 'login-manager/koa'

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T>(_value: T): void {}
function assertEquals<A, B>(_proof: Equals<A, B>): void {}

class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super()
  }
}

const manager = new LoginManager<User>({
  secret: process.env.SESSION_SECRET ?? '',
  userLoader: (id) => {
    expectType<string>(id)
    return new User(id, 'x')
  },
})

// @ts-expect-error a user loader must return a User (or null), not a string
new LoginManager<User>({ secret: 's', userLoader: () => 'nope' })
const userTable = new Map<string, User>()
new LoginManager<User>({
  secret: 's',
  // @ts-expect-error a loader with a forgotten `return` answers undefined, which is not "no user"
  userLoader: (id) => {
    userTable.get(id)
  },
})
// @ts-expect-error Map.get answers User | undefined: the loader says `?? null`
new LoginManager<User>({ secret: 's', userLoader: (id) => userTable.get(id) })
// @ts-expect-error the same for an async loader
new LoginManager<User>({ secret: 's', userLoader: async (id) => userTable.get(id) })
// @ts-expect-error and for the loader set later
manager.userLoader((id) => userTable.get(id))
// @ts-expect-error and for the request loader
manager.requestLoader(() => undefined)
new LoginManager<User>({ secret: 's', userLoader: (id) => userTable.get(id) ?? null })
new LoginManager<User>({ secret: 's', userLoader: async (id) => userTable.get(id) ?? null })
// @ts-expect-error the secret is required
new LoginManager<User>({ userLoader: () => null })

declare const auth: RequestAuth<User>
assertEquals<typeof auth.user, User | null>(true)
assertEquals<Awaited<ReturnType<typeof auth.getUser>>, User | null>(true)
declare const guarded: GuardedAuth<User>
assertEquals<typeof guarded.user, User>(true)
// @ts-expect-error loginUser takes a User
void auth.loginUser({ notAUser: true })
// @ts-expect-error durations are numbers of seconds
void auth.loginUser(new User('1', 'a'), { duration: '7h' })
void auth.loginUser(new User('1', 'a'), { keep: ['cart', 'locale'] })
void auth.loginUser(new User('1', 'a'), { keep: 'none' })
// @ts-expect-error keep is 'all', 'none' or a list of keys
void auth.loginUser(new User('1', 'a'), { keep: 'cart' })
new LoginManager<User>({ secret: 's', userLoader: () => null, session: { keepOnLogin: 'none' } })
const keepKeys: KeepOnLogin = ['cart'] as const
new LoginManager<User>({ secret: 's', userLoader: () => null, session: { keepOnLogin: keepKeys } })
// @ts-expect-error session.keepOnLogin is 'all', 'none' or a list of keys
new LoginManager<User>({ secret: 's', userLoader: () => null, session: { keepOnLogin: true } })

// Express: the wrapper form narrows req.auth.user without declaration merging.
const login = expressLogin(manager)
express().get(
  '/p',
  login.loginRequired((req, res) => {
    assertEquals<typeof req.auth.user, User>(true)
    res.send(req.auth.user.name)
  }),
)
assertEquals<ReturnType<typeof login.auth>, RequestAuth<User>>(true)
// The middleware and the called guards are Express handlers.
express().use(login.middleware, login.loginRequired(), login.freshLoginRequired())
// A guard is always called: passed uncalled to a route, it is a type error (app.use's overloads
// accept it; it then fails each request with ERR_GUARD_NOT_CALLED).
// @ts-expect-error login.freshLoginRequired()
express().get('/p', login.freshLoginRequired, (_req, res) => res.send('x'))

// Hono: the guard's Env narrows c.var.auth.user.
const hono = honoLogin(manager)
new Hono<AuthEnv<User>>().use(hono.middleware).get('/p', hono.loginRequired(), (c) => {
  assertEquals<typeof c.var.auth.user, User>(true)
  return c.text(c.var.auth.user.name)
})

// Hono: the wrapped handler narrows c.var.auth.user with no middleware on the route.
new Hono<AuthEnv<User>>().get(
  '/p',
  hono.loginRequired((c) => {
    assertEquals<typeof c.var.auth.user, User>(true)
    return c.text(c.var.auth.user.name)
  }),
)
hono.freshLoginRequired((c) => c.text(c.var.auth.user.name))
// @ts-expect-error a guarded handler must return a Response
hono.loginRequired((c) => c.var.auth.user.name)
// @ts-expect-error a guard passed uncalled: login.loginRequired must be called
new Hono<AuthEnv<User>>().use(hono.loginRequired)

// Koa: state typed through the middleware.
const koa = koaLogin(manager)
new Koa<AuthState<User>>().use(koa.middleware).use((ctx) => {
  assertEquals<typeof ctx.state.auth, RequestAuth<User>>(true)
})
koaLogin(manager, { caseSensitiveRouting: true })
new Koa<GuardedState<User>>().use(koa.loginRequired()).use((ctx) => {
  assertEquals<typeof ctx.state.auth.user, User>(true)
})
// Koa's Middleware type accepts a function of no arguments, so an uncalled guard
// (`app.use(koa.loginRequired)`) type-checks; it fails at the first request (misuse.test.ts).
assertEquals<ReturnType<typeof koa.auth>, RequestAuth<User>>(true)
// @ts-expect-error caseSensitiveRouting is a boolean
koaLogin(manager, { caseSensitiveRouting: 'yes' })

// Fastify and Fetch: typed accessors.
const fastify = fastifyLogin(manager)
declare const request: Parameters<typeof fastify.auth>[0]
assertEquals<
  typeof fastify.guarded extends (r: typeof request) => GuardedAuth<User> ? true : false,
  true
>(true)
Fastify().get('/p', { preHandler: fastify.loginRequired() }, async () => 'x')
// @ts-expect-error a guard is always called: { preHandler: login.loginRequired() }
Fastify().get('/p', { preHandler: fastify.loginRequired }, async () => 'x')
const web = fetchLogin(manager)
const page = web.loginRequired((_req, a) => {
  assertEquals<typeof a.user, User>(true)
  return new Response(a.user.name)
})
// Synchronous when it can be: a Response, or a promise of one.
assertEquals<ReturnType<typeof page>, Response | Promise<Response>>(true)
// @ts-expect-error the Fetch guard wraps a handler: there is no guard middleware to call
web.loginRequired()
// @ts-expect-error nor to pass uncalled as the server's handler
export const uncalled: (request: Request) => Response | Promise<Response> = web.loginRequired
// @hono/node-server's env (with the Node request) is a valid context.
declare const incoming: import('node:http').IncomingMessage
page(new Request('http://x/'), { incoming })
