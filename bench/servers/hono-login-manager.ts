// login-manager on Hono: the basic example's setup (examples/basic/hono.ts): the protected route
// wrapped by `login.loginRequired(handler)`, `login.middleware` on the login route, which reads the
// form body and logs the user in.
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { checkPassword } from '../../examples/basic/users.ts'
import { createBenchManager, type User } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const login = honoLogin(createBenchManager(benchSecret()))

const app = new Hono<AuthEnv<User>>()
app.use('/login', login.middleware)

app.post('/login', async (c) => {
  const form = await c.req.parseBody()
  const user = checkPassword(form.email, form.password)
  if (user === null) return c.text('Bad login', 401)
  await c.var.auth.loginUser(user)
  return c.text('Logged in')
})

app.get(
  '/protected',
  login.loginRequired((c) => c.html(loggedInAs(c.var.auth.user.id))),
)

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
