// A strict TypeScript file that uses every entry point of the package. The packaging test
// type-checks it (`tsc --noEmit`) in a fresh CommonJS project and a fresh ESM project, against
// the installed tarball; the repository's own typecheck covers it against the sources. No
// top-level await and no import.meta: it must compile as CommonJS too.
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import Koa from 'koa'
import {
  LoginManager,
  LoginManagerError,
  MemoryStore,
  type SessionStore,
  UserMixin,
} from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { fastifyLogin } from 'login-manager/fastify'
import { fetchLogin } from 'login-manager/fetch'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { type AuthState, koaLogin } from 'login-manager/koa'
import { RedisStore } from 'login-manager/redis'
import { SqliteStore } from 'login-manager/sqlite'
import { testLogin } from 'login-manager/testing'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super()
  }
}

const users = new Map([['ada', new User('ada', 'Ada Lovelace')]])

export function createManager(secret: string, store?: SessionStore): LoginManager<User> {
  return new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    loginView: '/login',
    session: { store },
  })
}

export function expressApp(manager: LoginManager<User>) {
  const login = expressLogin(manager)
  const app = express()
  app.use(login.middleware)
  app.get(
    '/me',
    login.loginRequired((req, res) => {
      const name: string = req.auth.user.name
      res.send(name)
    }),
  )
  return app
}

export function honoApp(manager: LoginManager<User>) {
  const login = honoLogin(manager)
  const app = new Hono<AuthEnv<User>>()
  app.get(
    '/me',
    login.loginRequired((c) => c.text(c.var.auth.user.name)),
  )
  return app
}

export async function fastifyApp(manager: LoginManager<User>) {
  const login = fastifyLogin(manager)
  const app = Fastify()
  await app.register(login.plugin)
  app.get('/me', { preHandler: login.loginRequired() }, async (req) => login.guarded(req).user.name)
  return app
}

export function koaApp(manager: LoginManager<User>) {
  const login = koaLogin(manager)
  const app = new Koa<AuthState<User>>()
  app.use(login.middleware)
  app.use(async (ctx) => {
    const user = await ctx.state.auth.getUser()
    ctx.body = user === null ? 'anonymous' : user.name
  })
  return app
}

export function fetchHandler(manager: LoginManager<User>) {
  const login = fetchLogin(manager)
  return login.loginRequired((_request, auth) => new Response(auth.user.name))
}

export function stores(redisUrl: string): SessionStore[] {
  const client = new Redis(redisUrl, { lazyConnect: true })
  // No @types/better-sqlite3 in the project: login-manager's types do not need it.
  const sqlite = new SqliteStore({ path: ':memory:', prefix: 'consumer_' })
  return [new MemoryStore(), new RedisStore({ client, prefix: 'consumer:' }), sqlite]
}

export function cookieFor(manager: LoginManager<User>): Promise<string> {
  return testLogin(manager, users.get('ada') as User)
}

export function isWeakSecret(error: unknown): boolean {
  return error instanceof LoginManagerError && error.code === 'ERR_SECRET_WEAK'
}
