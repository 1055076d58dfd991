// login-manager on Hono: the basic example's setup (examples/basic/hono.ts) around the protected
// route: `login.loginRequired(handler)` (the example puts `login.middleware` only on /login and
// /logout), every option at its default.
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { createBenchManager, type User } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const login = honoLogin(createBenchManager(benchSecret()))

const app = new Hono<AuthEnv<User>>()
app.get(
  '/protected',
  login.loginRequired((c) => c.html(loggedInAs(c.var.auth.user.id))),
)

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
