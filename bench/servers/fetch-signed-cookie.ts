// A Fetch handler's usual hand-written answer (there is no session package for plain Fetch
// handlers): the user id in a cookie signed with HMAC-SHA256 (node:crypto), checked in constant
// time.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { checkPassword, loadUser } from '../../examples/basic/users.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const secret = benchSecret()
const COOKIE = 'session'

const sign = (value: string) => createHmac('sha256', secret).update(value).digest('base64url')

function userOf(request: Request) {
  const header = request.headers.get('cookie') ?? ''
  const pair = header.split(/;\s*/).find((part) => part.startsWith(`${COOKIE}=`))
  if (pair === undefined) return null
  const value = decodeURIComponent(pair.slice(COOKIE.length + 1))
  const dot = value.lastIndexOf('.')
  if (dot <= 0) return null
  const id = value.slice(0, dot)
  const given = Buffer.from(value.slice(dot + 1))
  const expected = Buffer.from(sign(id))
  return given.length === expected.length && timingSafeEqual(given, expected) ? loadUser(id) : null
}

const text = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  })

const handler = async (request: Request): Promise<Response> => {
  const path = new URL(request.url).pathname
  if (path === '/login' && request.method === 'POST') {
    const form = new URLSearchParams((await request.text()).slice(0, 10_240))
    const user = checkPassword(form.get('email'), form.get('password'))
    if (user === null) return text('Bad login', 401)
    const value = encodeURIComponent(`${user.id}.${sign(user.id)}`)
    return text('Logged in', 200, {
      'set-cookie': `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax`,
    })
  }
  if (path === '/protected') {
    const user = userOf(request)
    if (user === null) return text('Unauthorized', 401)
    return new Response(loggedInAs(user.id), {
      headers: { 'content-type': 'text/html; charset=utf-8', vary: 'Cookie' },
    })
  }
  return text('Not Found', 404)
}

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
