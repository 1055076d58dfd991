import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManager } from '../core/login-manager.ts'
import { fetchLogin } from './fetch.ts'

// The Fetch and Hono adapters write the core's headers into whatever Response the app returns:
// every shape of headers gets them, immutable ones on a copy, and nothing the app owns (a shared
// headers object) is changed.

interface User {
  id: string
}
const alice: User = { id: 'alice' }

const login = fetchLogin(
  new LoginManager<User>({
    secret: 'fetch-response-test-secret-Xc4Vb7Nm2Qw9Lk5J',
    userLoader: (id) => (id === alice.id ? alice : null),
  }),
)

const sharedHeaders = Object.freeze({ 'content-type': 'text/html; charset=utf-8' })
const mutableShared: Record<string, string> = { 'Content-Type': 'text/plain', Vary: 'Accept' }

/** The response `make` gives, for a request that reads the session (so it varies on cookies). */
async function reading(make: () => Response): Promise<Response> {
  const handler = login.handle((_request, auth) => {
    void auth.user
    return make()
  })
  return handler(new Request('http://127.0.0.1/'))
}

/** The same for a request that logs in (it sets a cookie). */
async function loggingIn(make: () => Response): Promise<Response> {
  const handler = login.handle(async (_request, auth) => {
    await auth.loginUser(alice)
    return make()
  })
  return handler(new Request('http://127.0.0.1/'))
}

describe('Fetch responses get the session headers', () => {
  it('Vary and a private Cache-Control on every shape of headers', async () => {
    const shapes: Record<string, () => Response> = {
      plain: () => new Response('hi', { headers: { 'content-type': 'text/html' } }),
      none: () => new Response('hi'),
      'null body': () => new Response(null, { status: 204 }),
      frozen: () => new Response('hi', { headers: sharedHeaders }),
      'Headers object': () => new Response('hi', { headers: new Headers({ vary: 'Accept' }) }),
      tuples: () => new Response('hi', { headers: [['x-a', '1']] }),
    }
    for (const [name, make] of Object.entries(shapes)) {
      const res = await reading(make)
      assert.match(res.headers.get('vary') ?? '', /Cookie/, name)
      assert.equal(res.headers.get('cache-control'), 'private', name)
    }
  })

  it("keeps the app's own Cache-Control and Vary values", async () => {
    const res = await reading(
      () => new Response('hi', { headers: { 'Cache-Control': 'no-cache', Vary: 'Accept' } }),
    )
    assert.equal(res.headers.get('cache-control'), 'no-cache')
    assert.equal(res.headers.get('vary'), 'Accept, Cookie')
  })

  it('leaves a Vary that already covers cookies, in any letter case', async () => {
    for (const vary of ['*', 'cookie', 'COOKIE, Accept']) {
      const res = await reading(() => new Response('hi', { headers: { VARY: vary } }))
      assert.equal(res.headers.get('vary'), vary)
    }
  })

  it('adds no content type to a response without a body', async () => {
    const res = await reading(() => new Response(null, { status: 204 }))
    assert.equal(res.headers.get('content-type'), null)
  })

  it('never changes a headers object the app owns', async () => {
    await reading(() => new Response('hi', { headers: mutableShared }))
    await loggingIn(() => new Response('hi', { headers: mutableShared }))
    assert.deepEqual(mutableShared, { 'Content-Type': 'text/plain', Vary: 'Accept' })
  })

  it('a cookie: Set-Cookie appended to the app cookies, never cacheable', async () => {
    const res = await loggingIn(
      () => new Response('hi', { headers: { 'set-cookie': 'app=1; Path=/' } }),
    )
    const cookies = res.headers.getSetCookie()
    assert.equal(cookies[0], 'app=1; Path=/')
    assert.equal(cookies.length, 2)
    assert.equal(res.headers.get('cache-control'), 'private, no-store')
  })

  it('an immutable response (Response.redirect) is copied with the headers', async () => {
    const res = await loggingIn(() => Response.redirect('http://127.0.0.1/next', 303))
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), 'http://127.0.0.1/next')
    assert.equal(res.headers.getSetCookie().length, 1)
  })
})

describe('the request headers the core reads', () => {
  it("are the Node request's when the server passes it, else the Request's", async () => {
    const { FetchRequest } = await import('./fetch-response.ts')
    const request = new Request('http://127.0.0.1/x', { headers: { cookie: 'a=1', 'x-one': '1' } })
    const node = { cookie: 'a=1; b=2', 'x-many': ['1', '2'] }
    const fromNode = new FetchRequest(request, undefined, null, node)
    assert.equal(fromNode.header('cookie'), 'a=1; b=2')
    assert.equal(fromNode.header('x-many'), '1, 2')
    assert.equal(fromNode.header('x-one'), undefined, 'only the Node headers are read')
    const fromRequest = new FetchRequest(request, undefined, null, undefined)
    assert.equal(fromRequest.header('cookie'), 'a=1')
    assert.equal(fromRequest.header('x-many'), undefined)
  })

  it('come from the Node request under @hono/node-server, through the handler context', async () => {
    const { incomingHeaders } = await import('./fetch-response.ts')
    const headers = { cookie: 'a=1' }
    assert.equal(incomingHeaders({ incoming: { headers } }), headers)
    for (const none of [undefined, null, {}, { incoming: null }, { incoming: { headers: 'x' } }]) {
      assert.equal(incomingHeaders(none), undefined)
    }
  })
})
