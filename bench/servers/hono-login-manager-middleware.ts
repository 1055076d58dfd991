// login-manager on Hono with the middleware layout: `app.use(login.middleware)` on every route and
// `login.loginRequired()` as route middleware before the handler. Measured beside
// hono-login-manager.ts to show what the two extra middleware layers cost.
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { createBenchManager, type User } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const login = honoLogin(createBenchManager(benchSecret()))

const app = new Hono<AuthEnv<User>>()
app.use(login.middleware)

app.get('/protected', login.loginRequired(), (c) => c.html(loggedInAs(c.var.auth.user.id)))

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
