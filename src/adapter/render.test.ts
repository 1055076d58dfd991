import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { redirect, respond } from '../core/outcome.ts'
import { renderOutcome } from './render.ts'

describe('renderOutcome', () => {
  it('renders a redirect with its location and a text body naming it', () => {
    assert.deepEqual(renderOutcome(redirect('/login?next=%2Fa', 303)), {
      status: 303,
      headers: { location: '/login?next=%2Fa', 'content-type': 'text/plain; charset=utf-8' },
      body: 'Redirecting to /login?next=%2Fa',
    })
  })

  it('makes a hand-built redirect location header-safe', () => {
    const reply = renderOutcome({ type: 'redirect', status: 302, location: '/café' })
    assert.equal(reply.headers.location, '/caf%C3%A9')
    assert.equal(reply.body, 'Redirecting to /caf%C3%A9')
  })

  it('sends a string body as text unless the outcome names its content type', () => {
    assert.deepEqual(renderOutcome(respond(401, 'Unauthorized')), {
      status: 401,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'Unauthorized',
    })
    const html = renderOutcome(respond(401, '<p>no</p>', { 'Content-Type': 'text/html' }))
    assert.deepEqual(html.headers, { 'content-type': 'text/html' })
  })

  it('sends any other body as JSON, keeping the outcome headers with lower-case names', () => {
    assert.deepEqual(renderOutcome(respond(401, { error: 'Unauthorized' }, { 'X-Why': 'login' })), {
      status: 401,
      headers: { 'x-why': 'login', 'content-type': 'application/json; charset=utf-8' },
      body: '{"error":"Unauthorized"}',
    })
    assert.equal(renderOutcome(respond(200, [1, 2])).body, '[1,2]')
    assert.equal(renderOutcome(respond(200, 0)).body, '0')
  })

  it('sends no body, and no content type, for an undefined or null body', () => {
    assert.deepEqual(renderOutcome(respond(204)), { status: 204, headers: {}, body: '' })
    assert.deepEqual(renderOutcome(respond(401, null)), { status: 401, headers: {}, body: '' })
  })
})
