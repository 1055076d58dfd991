// login-manager's Fetch adapter: the basic example's setup (examples/basic/fetch.ts): the protected
// route as `login.loginRequired(handler)`, the login route in `login.handle`, served like
// `npm start` serves it (headers and the client address, for session protection, from
// @hono/node-server's Node request).
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'
import { checkPassword } from '../../examples/basic/users.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8' } })
const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })

const login = fetchLogin(createBenchManager(benchSecret()))
const protectedPage = login.loginRequired((_req, auth) => html(loggedInAs(auth.user.id)))
const loginRoute = login.handle(async (request, auth) => {
  const form = new URLSearchParams((await request.text()).slice(0, 10_240))
  const user = checkPassword(form.get('email'), form.get('password'))
  if (user === null) return text('Bad login', 401)
  await auth.loginUser(user)
  return text('Logged in')
})

// As examples/start.ts: @hono/node-server passes its `{ incoming, outgoing }` as the context.
const handler = (request: Request, context?: FetchRequestContext): Response | Promise<Response> => {
  const path = new URL(request.url).pathname
  if (path === '/protected') return protectedPage(request, context)
  if (path === '/login' && request.method === 'POST') return loginRoute(request, context)
  return text('Not Found', 404)
}

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
