/**
 * The Fetch and Hono adapters read request headers from the Node request that
 * `@hono/node-server` passes (`incoming.headers`, src/adapters/fetch-response.ts `FetchRequest`),
 * against reading them through the `Request` the server hands the app, whose `headers` the
 * server creates on first access. Each operation is a fresh request through the server's
 * request listener, as in production, reading the two headers a guard reads (`cookie`,
 * `user-agent`); both arms pay for the rest of the listener alike.
 *
 *   npx tsx --conditions=login-manager-source bench/micro/node-request-headers.bench.ts
 */
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { getRequestListener, type Http2Bindings, type HttpBindings } from '@hono/node-server'
import { FetchRequest, incomingHeaders } from '../../src/adapters/fetch-response.ts'
import { consume, pair } from './pair.ts'

const COOKIE = `__Host-session=v1.${'x'.repeat(200)}`
const AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0'
const socket = new Socket()

const listener = (fromNode: boolean) =>
  getRequestListener((request: Request, env: HttpBindings | Http2Bindings) => {
    const adapter = new FetchRequest(
      request,
      undefined,
      request,
      fromNode ? incomingHeaders(env) : undefined,
    )
    consume([adapter.header('cookie'), adapter.header('user-agent')])
    return new Response('ok')
  })

/** A fresh Node request and response, as the server creates for each request. */
function exchange(): [IncomingMessage, ServerResponse] {
  const incoming = new IncomingMessage(socket)
  incoming.method = 'GET'
  incoming.url = '/protected'
  incoming.headers = { host: '127.0.0.1:3000', cookie: COOKIE, 'user-agent': AGENT }
  incoming.rawHeaders = ['Host', '127.0.0.1:3000', 'Cookie', COOKIE, 'User-Agent', AGENT]
  incoming.push(null)
  const outgoing = new ServerResponse(incoming)
  // Nothing is sent: the listener's write goes nowhere.
  outgoing.end = (() => outgoing) as ServerResponse['end']
  return [incoming, outgoing]
}

const withNode = listener(true)
const withRequest = listener(false)
await pair(
  "a request's cookie and user-agent, through @hono/node-server",
  () => withNode(...exchange()),
  () => withRequest(...exchange()),
  { async: true },
)
