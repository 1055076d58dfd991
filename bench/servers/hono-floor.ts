// The floor on Hono: the guard's work inline in the handler (bench/lib/floor.ts), headers and the
// client address from @hono/node-server's Node request, then `Vary: Cookie`.
import type { IncomingMessage, Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createFloor } from '../lib/floor.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const floor = createFloor(benchSecret())

const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>()
app.get('/protected', (c) => {
  const { headers, socket } = c.env.incoming
  const user = floor(headers.cookie, socket.remoteAddress, headers['user-agent'])
  if (user === null) return c.text('Unauthorized', 401)
  c.header('vary', 'Cookie')
  return c.html(loggedInAs(user.id))
})

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
