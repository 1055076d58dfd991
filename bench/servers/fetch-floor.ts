// The floor on a Fetch handler served by @hono/node-server: the guard's work inline
// (bench/lib/floor.ts), headers and the client address from the Node request the server passes
// (as login-manager's Fetch adapter reads them), then `Vary: Cookie`.
import type { Server } from 'node:http'
import { type Http2Bindings, type HttpBindings, serve } from '@hono/node-server'
import { createFloor } from '../lib/floor.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const floor = createFloor(benchSecret())

const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })

const handler = (request: Request, context: HttpBindings | Http2Bindings): Response => {
  if (new URL(request.url).pathname !== '/protected') return text('Not Found', 404)
  const { headers, socket } = context.incoming
  const user = floor(headers.cookie, socket.remoteAddress, headers['user-agent'])
  if (user === null) return text('Unauthorized', 401)
  return new Response(loggedInAs(user.id), {
    headers: { 'content-type': 'text/html; charset=utf-8', vary: 'Cookie' },
  })
}

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
