// A complete login-manager adapter for plain node:http, on the adapter contract.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GuardedAuth, LoginManager, RequestAuth, UserId } from 'login-manager'
import type { AdapterRequest, Reply, RequestCycle } from 'login-manager/adapter'
import { startRequest } from 'login-manager/adapter'

/** 1. What the core reads from a request: answered lazily from Node's own request object. */
class NodeRequest implements AdapterRequest {
  constructor(readonly raw: IncomingMessage) {}
  get method() {
    return this.raw.method ?? 'GET'
  }
  get url() {
    return this.raw.url ?? '/'
  }
  header(name: string) {
    const value = this.raw.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  }
  get clientAddress() {
    return this.raw.socket.remoteAddress // no proxy in front: the socket is the client
  }
  get origin() {
    return `http://${this.raw.headers.host ?? 'localhost'}`
  }
}

/** 2. A reply the core decided, written verbatim. */
function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return
  res.statusCode = reply.status
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value)
  res.end(reply.body)
}

/** 3. The response's finish: headers added right before they go out, store writes awaited. */
function finishOnHeaders<U extends object, I extends UserId>(
  res: ServerResponse,
  cycle: RequestCycle<U, I>,
) {
  const apply = (status: number) => {
    const finish = cycle.finish(status, {
      vary: res.getHeader('vary')?.toString(),
      cacheControl: res.getHeader('cache-control')?.toString(),
    })
    if (finish === null) return
    if (finish.setCookie.length > 0) res.appendHeader('set-cookie', finish.setCookie)
    if (finish.vary !== undefined) res.setHeader('vary', finish.vary)
    if (finish.cacheControl !== undefined) res.setHeader('cache-control', finish.cacheControl)
    return finish.writes
  }
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse
  res.writeHead = ((...args: unknown[]) => {
    apply(typeof args[0] === 'number' ? args[0] : res.statusCode)
    return writeHead(...args)
  }) as ServerResponse['writeHead']
  if (!cycle.writesToStore) return
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
  res.end = ((...args: unknown[]) => {
    const writes = res.headersSent ? undefined : apply(res.statusCode)
    if (writes === undefined) return end(...args)
    writes.then((failure) => {
      if (failure === null || res.headersSent) return end(...args)
      // The failure rule: the store-failure reply replaces the whole response.
      for (const name of res.getHeaderNames()) res.removeHeader(name)
      send(res, failure)
    })
    return res
  }) as ServerResponse['end']
}

type Handler<A> = (req: IncomingMessage, res: ServerResponse, auth: A) => unknown

/** 4. The integration: a wrapper per route, with or without a login guard. */
export function nodeLogin<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
) {
  manager.assertReady()
  const route =
    <A>(guard: 'login' | 'fresh' | undefined, handler: Handler<A>) =>
    async (req: IncomingMessage, res: ServerResponse) => {
      const cycle = startRequest(manager, new NodeRequest(req))
      finishOnHeaders(res, cycle)
      try {
        const refused =
          (await cycle.ready()) ?? (guard === undefined ? null : await cycle.guard(guard))
        if (refused !== null) return send(res, refused)
        await handler(req, res, cycle.auth as A)
      } catch (error) {
        console.error(error) // the app's own error (a throwing loader or handler)
        send(res, { status: 500, headers: {}, body: '' })
      }
    }
  return {
    handle: (handler: Handler<RequestAuth<User, Id>>) => route(undefined, handler),
    loginRequired: (handler: Handler<GuardedAuth<User, Id>>) => route('login', handler),
    freshLoginRequired: (handler: Handler<GuardedAuth<User, Id>>) => route('fresh', handler),
  }
}
