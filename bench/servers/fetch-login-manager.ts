// login-manager's Fetch adapter: the basic example's setup (examples/basic/fetch.ts) around the
// protected route, `login.loginRequired(handler)`, served like `npm start` serves it (the client
// address, for session protection, from @hono/node-server's Node request).
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8' } })
const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })

const login = fetchLogin(createBenchManager(benchSecret()))
const protectedPage = login.loginRequired((_req, auth) => html(loggedInAs(auth.user.id)))

// As examples/start.ts: @hono/node-server passes its `{ incoming, outgoing }` as the context.
const handler = (request: Request, context?: FetchRequestContext): Response | Promise<Response> =>
  new URL(request.url).pathname === '/protected'
    ? protectedPage(request, context)
    : text('Not Found', 404)

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
