// Ablation: the floor on a Fetch handler (fetch-floor.ts), with its headers added the only way a
// wrapper of the app's handler can add them: on the Response the handler built (`Vary` and
// `Cache-Control: private`, as login-manager's finish adds to a logged-in page). On
// @hono/node-server that turns the response's plain headers object into a `Headers`.
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
  const response = new Response(loggedInAs(user.id), {
    headers: { 'content-type': 'text/html; charset=utf-8' },
  })
  response.headers.set('vary', 'Cookie')
  response.headers.set('cache-control', 'private')
  return response
}

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
