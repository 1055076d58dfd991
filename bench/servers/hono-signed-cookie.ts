// Hono's own answer: a signed cookie holding the user id (`hono/cookie`'s setSignedCookie /
// getSignedCookie, HMAC-SHA256 through WebCrypto), read by a middleware, checked by the route.
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { getSignedCookie, setSignedCookie } from 'hono/cookie'
import { checkPassword, loadUser, type User } from '../../examples/basic/users.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const secret = benchSecret()
const COOKIE = 'session'

const app = new Hono<{ Variables: { user: User | null } }>()

app.use(async (c, next) => {
  const userId = await getSignedCookie(c, secret, COOKIE)
  c.set('user', typeof userId === 'string' && userId !== '' ? loadUser(userId) : null)
  await next()
})

app.post('/login', async (c) => {
  const form = await c.req.parseBody()
  const user = checkPassword(form.email, form.password)
  if (user === null) return c.text('Bad login', 401)
  await setSignedCookie(c, COOKIE, user.id, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
  })
  return c.text('Logged in')
})

app.get('/protected', (c) => {
  const user = c.var.user
  if (user === null) return c.text('Unauthorized', 401)
  return c.html(loggedInAs(user.id))
})

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
