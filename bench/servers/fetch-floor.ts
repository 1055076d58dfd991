// The floor on a Fetch handler served by @hono/node-server: the guard's work inline
// (bench/lib/floor.ts), headers and the client address from the Node request the server passes
// (as login-manager's Fetch adapter reads them), then `Vary: Cookie`.
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { floorFetchHandler } from '../lib/fetch-floor.ts'
import { announce, benchSecret, HOST, PORT } from './listen.ts'

const handler = floorFetchHandler(
  benchSecret(),
  (body) =>
    new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8', vary: 'Cookie' } }),
)

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
