import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AdapterRequest } from '../shared/types.ts'
import { LoginManager } from './login-manager.ts'
import { RequestInfo } from './request-info.ts'

const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'

function adapter(
  url: string,
  headers: Record<string, string> = {},
  origin = 'http://localhost:3000',
): AdapterRequest & { asked: string[] } {
  const asked: string[] = []
  return {
    method: 'POST',
    url,
    header(name: string) {
      asked.push(name)
      return headers[name]
    },
    clientAddress: '10.0.0.7',
    origin,
    raw: { framework: 'request' },
    asked,
  }
}

describe('RequestInfo', () => {
  it('exposes the adapter facts', () => {
    const a = adapter('/a/b?x=1')
    const info = new RequestInfo(a)
    assert.equal(info.method, 'POST')
    assert.equal(info.pathWithQuery, '/a/b?x=1')
    assert.equal(info.clientAddress, '10.0.0.7')
    assert.equal(info.raw, a.raw)
  })

  it('path drops the query string', () => {
    assert.equal(new RequestInfo(adapter('/a/b?x=1&y=2')).path, '/a/b')
    assert.equal(new RequestInfo(adapter('/a/b')).path, '/a/b')
    assert.equal(new RequestInfo(adapter('/?')).path, '/')
  })

  it('query returns the first value, decoded, or null', () => {
    const info = new RequestInfo(adapter('/p?next=%2Fa%3Fb%3D1&next=%2Fsecond&empty=&plus=a+b'))
    assert.equal(info.query('next'), '/a?b=1')
    assert.equal(info.query('empty'), '')
    assert.equal(info.query('plus'), 'a b')
    assert.equal(info.query('missing'), null)
    assert.equal(new RequestInfo(adapter('/p')).query('next'), null)
  })

  it('url joins origin and path', () => {
    const url = new RequestInfo(adapter('/a/b?x=1')).url
    assert.equal(url.href, 'http://localhost:3000/a/b?x=1')
  })

  it("url never changes host for a '//evil.com/x' path", () => {
    for (const path of ['//evil.com/x', '///evil.com/x', '/\\evil.com/x', '//evil.com:80@x/']) {
      const url = new RequestInfo(adapter(path)).url
      assert.equal(url.host, 'localhost:3000', `for ${path}`)
      assert.equal(url.origin, 'http://localhost:3000')
    }
  })

  it('url never changes host for an absolute-form or asterisk request target', () => {
    for (const path of ['http://evil.com/x?next=1', 'https://evil.com', '*', 'evil.com/x', '']) {
      const url = new RequestInfo(adapter(path)).url
      assert.equal(url.origin, 'http://localhost:3000', `for ${JSON.stringify(path)}`)
      assert.equal(url.pathname, '/')
    }
  })

  it('the configured origin wins over the request origin', () => {
    const info = new RequestInfo(
      adapter('/p?q=1', {}, 'http://internal:8080'),
      'https://app.example',
    )
    assert.equal(info.url.href, 'https://app.example/p?q=1')
  })

  it('the manager passes its `origin` option to auth.request', () => {
    const m = new LoginManager({
      secret: SECRET,
      origin: 'https://app.example/',
      userLoader: () => null,
    })
    const auth = m.createAuth(adapter('/x', {}, 'http://10.0.0.1:3000'))
    assert.equal(auth.request.url.origin, 'https://app.example')
    assert.equal(auth.request.url.pathname, '/x')
  })

  it('url is built once (memoised)', () => {
    const info = new RequestInfo(adapter('/a'))
    assert.equal(info.url, info.url)
  })

  it('url does not throw when the origin cannot be parsed, and keeps the path', () => {
    const info = new RequestInfo(adapter('/a?x=1', {}, 'not an origin'))
    assert.doesNotThrow(() => info.url)
    assert.equal(info.url.pathname, '/a')
    assert.equal(info.query('x'), '1')
  })

  it('header lookups are case-insensitive (the adapter is asked in lower case)', () => {
    const a = adapter('/', { 'user-agent': 'UA/1', accept: 'text/html' })
    const info = new RequestInfo(a)
    assert.equal(info.header('User-Agent'), 'UA/1')
    assert.equal(info.header('USER-AGENT'), 'UA/1')
    assert.equal(info.header('accept'), 'text/html')
    assert.equal(info.header('X-Missing'), undefined)
    assert.deepEqual(a.asked, ['user-agent', 'user-agent', 'accept', 'x-missing'])
  })
})
