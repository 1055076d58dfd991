// A bare Fetch handler, `(Request) => Response`, served by @hono/node-server's `serve` (as
// `npm start` serves the Fetch example): the protected route with no authentication.
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { announce, HOST, loggedInAs, PORT } from './listen.ts'

const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8' } })
const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })

const handler = (request: Request): Response =>
  new URL(request.url).pathname === '/protected'
    ? html(loggedInAs('leafstorm'))
    : text('Not Found', 404)

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
