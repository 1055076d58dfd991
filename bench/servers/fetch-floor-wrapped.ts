// Ablation: the floor on a Fetch handler (fetch-floor.ts), with its headers added the only way a
// wrapper of the app's handler can add them: on the Response the handler built (`Vary` and
// `Cache-Control: private`, as login-manager's finish adds to a logged-in page). On
// @hono/node-server that turns the response's plain headers object into a `Headers`.
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { floorFetchHandler } from '../lib/fetch-floor.ts'
import { announce, benchSecret, HOST, PORT } from './listen.ts'

const handler = floorFetchHandler(benchSecret(), (body) => {
  const response = new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } })
  response.headers.set('vary', 'Cookie')
  response.headers.set('cache-control', 'private')
  return response
})

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
