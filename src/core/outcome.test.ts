import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isAuthOutcome, redirect, respond } from './outcome.ts'

describe('redirect', () => {
  it('defaults to 302', () => {
    assert.deepEqual(redirect('/login?next=%2F'), {
      type: 'redirect',
      status: 302,
      location: '/login?next=%2F',
    })
  })

  it('takes another status', () => {
    assert.deepEqual(redirect('https://auth.example/', 303), {
      type: 'redirect',
      status: 303,
      location: 'https://auth.example/',
    })
  })
})

describe('redirect encodes the location for the header', () => {
  it('percent-encodes what is outside the URL code points and keeps escapes', () => {
    const location = (url: string) => {
      const outcome = redirect(url)
      return outcome.type === 'redirect' ? outcome.location : undefined
    }
    assert.equal(location('/登录?next=%2Fp'), '/%E7%99%BB%E5%BD%95?next=%2Fp')
    assert.equal(location('/a<b>"c"'), '/a%3Cb%3E%22c%22')
    assert.equal(location('/a%3Cb'), '/a%3Cb')
    assert.equal(location('https://bücher.example/'), 'https://xn--bcher-kva.example/')
  })
})

describe('respond', () => {
  it('carries status and body', () => {
    const outcome = respond(401, 'Unauthorized')
    assert.equal(outcome.type, 'respond')
    assert.equal(outcome.status, 401)
    assert.ok(outcome.type === 'respond')
    assert.equal(outcome.body, 'Unauthorized')
    assert.equal(outcome.headers, undefined)
    assert.ok(!('headers' in outcome), 'no headers key when none are given')
  })

  it('carries a JSON body as is', () => {
    const body = { error: 'Unauthorized', nested: [1, 2] }
    const outcome = respond(401, body)
    assert.ok(outcome.type === 'respond')
    assert.equal(outcome.body, body)
  })

  it('may have no body', () => {
    const outcome = respond(204)
    assert.ok(outcome.type === 'respond')
    assert.equal(outcome.status, 204)
    assert.equal(outcome.body, undefined)
  })

  it('carries headers', () => {
    const outcome = respond(401, 'no', { 'www-authenticate': 'Basic realm="x"' })
    assert.ok(outcome.type === 'respond')
    assert.deepEqual(outcome.headers, { 'www-authenticate': 'Basic realm="x"' })
  })
})

describe('isAuthOutcome', () => {
  it('is true for what redirect and respond make', () => {
    assert.equal(isAuthOutcome(redirect('/x')), true)
    assert.equal(isAuthOutcome(respond(401)), true)
    assert.equal(isAuthOutcome(respond(401, { a: 1 }, { x: 'y' })), true)
    assert.equal(isAuthOutcome({ type: 'redirect', status: 301, location: '/' }), true)
  })

  it('is false for anything else', () => {
    for (const value of [
      null,
      undefined,
      0,
      'redirect',
      [],
      {},
      { type: 'redirect' },
      { type: 'respond', status: '401' },
      { type: 'other', status: 200 },
      { status: 302, location: '/' },
      () => redirect('/'),
    ]) {
      assert.equal(isAuthOutcome(value), false, `for ${JSON.stringify(value)}`)
    }
  })
})
