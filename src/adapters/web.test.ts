import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { serve } from '@hono/node-server'
import type { ResponseEffects } from '../core/auth.ts'
import { applyEffectsToResponse } from './web.ts'

// Under @hono/node-server the global Response is its lightweight class, which keeps
// [status, body, headers] until something reads them. These tests serve real responses through it
// and check that Vary is added on the fast path (the parts stay cached) without touching objects
// the app owns, and that every other shape still gets the right headers.

const VARY: ResponseEffects = { cookies: [], vary: true, noStore: false }
const COOKIE: ResponseEffects = { cookies: ['a=1; Path=/'], vary: true, noStore: true }

const sharedHeaders = Object.freeze({ 'content-type': 'text/html; charset=utf-8' })
const mutableShared: Record<string, string> = { 'Content-Type': 'text/plain', Vary: 'Accept' }

const routes: Record<string, () => [Response, ResponseEffects]> = {
  '/plain': () => [new Response('hi', { headers: { 'content-type': 'text/html' } }), VARY],
  '/no-headers': () => [new Response('hi'), VARY],
  '/null-body': () => [new Response(null, { status: 204 }), VARY],
  '/frozen': () => [new Response('hi', { headers: sharedHeaders }), VARY],
  '/shared': () => [new Response('hi', { headers: mutableShared }), VARY],
  '/star': () => [new Response('hi', { headers: { vary: '*' } }), VARY],
  '/has-cookie': () => [new Response('hi', { headers: { VARY: 'Cookie, Accept' } }), VARY],
  '/headers-object': () => [
    new Response('hi', { headers: new Headers({ vary: 'Accept-Encoding' }) }),
    VARY,
  ],
  '/tuples': () => [new Response('hi', { headers: [['x-a', '1']] }), VARY],
  '/own-cache': () => [new Response('hi', { headers: { 'Cache-Control': 'no-cache' } }), VARY],
  '/own-cache-headers': () => [
    new Response('hi', { headers: new Headers({ 'cache-control': 'max-age=5' }) }),
    VARY,
  ],
  '/cookie': () => [new Response('hi', { headers: { 'content-type': 'text/plain' } }), COOKIE],
}

/** Whether a response still holds its cached parts (the fast path). */
const stillLight = (response: Response) =>
  Object.getOwnPropertySymbols(response).some(
    (s) => s.description === 'cache' && Array.isArray((response as never)[s]),
  )

const light = new Map<string, boolean>()
let server: Server
let base: string

before(async () => {
  server = serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request) => {
      const path = new URL(request.url).pathname
      const route = routes[path]
      if (route === undefined) return new Response('nope', { status: 404 })
      const [response, effects] = route()
      const result = applyEffectsToResponse(response, effects)
      light.set(path, stillLight(result))
      return result
    },
  }) as Server
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(() => {
  server.close()
  server.closeAllConnections()
})

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`)
  await response.arrayBuffer()
  return response
}

describe('Cache-Control on the fast path (a response that only read the session)', () => {
  it('is private for every shape, fast path or not', async () => {
    for (const path of ['/plain', '/no-headers', '/null-body', '/frozen', '/shared', '/tuples']) {
      const response = await get(path)
      assert.equal(response.headers.get('cache-control'), 'private', path)
    }
    assert.equal((await get('/headers-object')).headers.get('cache-control'), 'private')
    assert.equal(light.get('/plain'), true)
    assert.equal(light.get('/no-headers'), true)
    assert.deepEqual(sharedHeaders, { 'content-type': 'text/html; charset=utf-8' })
  })

  it("keeps the app's own Cache-Control", async () => {
    const own = await get('/own-cache')
    assert.equal(own.headers.get('cache-control'), 'no-cache')
    assert.equal(own.headers.get('vary'), 'Cookie')
    assert.equal(light.get('/own-cache'), true)
    assert.equal((await get('/own-cache-headers')).headers.get('cache-control'), 'max-age=5')
  })
})

describe('applyEffectsToResponse under @hono/node-server', () => {
  it('adds Vary to plain-object headers and keeps the fast path', async () => {
    const response = await get('/plain')
    assert.equal(response.headers.get('vary'), 'Cookie')
    assert.equal(response.headers.get('content-type'), 'text/html')
    assert.equal(light.get('/plain'), true)
  })

  it('keeps the default content type of a response without headers', async () => {
    const response = await get('/no-headers')
    assert.equal(response.headers.get('vary'), 'Cookie')
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=UTF-8')
    assert.equal(light.get('/no-headers'), true)
  })

  it('adds no content type to a response without a body', async () => {
    const response = await get('/null-body')
    assert.equal(response.status, 204)
    assert.equal(response.headers.get('vary'), 'Cookie')
    assert.equal(response.headers.get('content-type'), null)
  })

  it('never changes a headers object the app owns', async () => {
    assert.equal((await get('/frozen')).headers.get('vary'), 'Cookie')
    assert.equal((await get('/shared')).headers.get('vary'), 'Accept, Cookie')
    assert.equal((await get('/shared')).headers.get('vary'), 'Accept, Cookie')
    assert.deepEqual(mutableShared, { 'Content-Type': 'text/plain', Vary: 'Accept' })
    assert.deepEqual(sharedHeaders, { 'content-type': 'text/html; charset=utf-8' })
  })

  it('leaves a Vary that already covers cookies, in any letter case', async () => {
    assert.equal((await get('/star')).headers.get('vary'), '*')
    assert.equal((await get('/has-cookie')).headers.get('vary'), 'Cookie, Accept')
  })

  it('adds to a Headers object in place', async () => {
    assert.equal((await get('/headers-object')).headers.get('vary'), 'Accept-Encoding, Cookie')
  })

  it('takes the standard path for other header shapes and for cookies', async () => {
    const tuples = await get('/tuples')
    assert.equal(tuples.headers.get('vary'), 'Cookie')
    assert.equal(tuples.headers.get('x-a'), '1')
    const cookie = await get('/cookie')
    assert.deepEqual(cookie.headers.getSetCookie(), ['a=1; Path=/'])
    assert.equal(cookie.headers.get('vary'), 'Cookie')
    assert.equal(cookie.headers.get('cache-control'), 'private, no-store')
  })
})
