// @hono/session: Hono's session middleware (the session is an encrypted JWT, A256GCM through
// `jose`, in a cookie), with the user id as a session value.

import { createHash } from 'node:crypto'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { type SessionEnv, useSession } from '@hono/session'
import { Hono } from 'hono'
import { checkPassword, loadUser } from '../../examples/basic/users.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

type Data = {
  userId?: string
}

// @hono/session wants a 32-byte key, hex-encoded.
const secret = createHash('sha256').update(benchSecret()).digest('hex')

const app = new Hono<SessionEnv<Data>>()
app.use(useSession({ secret }))

app.post('/login', async (c) => {
  const form = await c.req.parseBody()
  const user = checkPassword(form.email, form.password)
  if (user === null) return c.text('Bad login', 401)
  await c.var.session.update({ userId: user.id })
  return c.text('Logged in')
})

app.get('/protected', async (c) => {
  const data = await c.var.session.get()
  const user = typeof data?.userId === 'string' ? loadUser(data.userId) : null
  if (user === null) return c.text('Unauthorized', 401)
  return c.html(loggedInAs(user.id))
})

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
