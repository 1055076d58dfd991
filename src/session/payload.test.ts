import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePayload, encodePayload } from './payload.ts'
import { Session } from './session.ts'

describe('encodePayload / decodePayload', () => {
  it('round-trips data, login state, flashes, permanence and timestamps', () => {
    const s = new Session({ createdAt: 1000, lastActive: 1000, isNew: true })
    s.set('theme', 'dark')
    s.set('cart', [1, { sku: 'a' }])
    s.set('nothing', null)
    s.flash('hi')
    s.flash('bad', 'error')
    s.permanent = true
    s._setAuth({
      userId: 'u1',
      fresh: true,
      identifier: 'abc',
      rememberSeconds: 60,
      version: 3,
      next: '/x',
    })
    const decoded = decodePayload(encodePayload(s, 1234))
    assert.ok(decoded !== null)
    assert.deepEqual({ ...decoded.data }, { theme: 'dark', cart: [1, { sku: 'a' }], nothing: null })
    assert.deepEqual(decoded.auth, {
      userId: 'u1',
      fresh: true,
      identifier: 'abc',
      rememberSeconds: 60,
      version: 3,
      next: '/x',
    })
    assert.deepEqual(decoded.flashes, [
      { category: 'message', message: 'hi' },
      { category: 'error', message: 'bad' },
    ])
    assert.equal(decoded.permanent, true)
    assert.equal(decoded.createdAt, 1000)
    assert.equal(decoded.lastActive, 1234)
  })

  it('round-trips a numeric id, a string version, a null identifier and fresh false', () => {
    const s = new Session({ createdAt: 1, lastActive: 1, isNew: true })
    s._setAuth({ userId: 7, fresh: false, identifier: null, version: 'v9' })
    const decoded = decodePayload(encodePayload(s, 2))
    assert.deepEqual(decoded?.auth, { userId: 7, fresh: false, identifier: null, version: 'v9' })
    assert.equal(decoded?.permanent, false)
  })

  it('an empty session encodes compactly and decodes to an empty one', () => {
    const s = new Session({ createdAt: 5, lastActive: 5, isNew: true })
    const json = encodePayload(s, 6)
    assert.deepEqual(JSON.parse(json), { c: 5, t: 6 })
    const decoded = decodePayload(json)
    assert.ok(decoded !== null)
    assert.deepEqual(Object.keys(decoded.data), [])
    assert.deepEqual(decoded.auth, {})
    assert.deepEqual(decoded.flashes, [])
  })

  it('decoded data has a null prototype', () => {
    const withData = decodePayload('{"c":1,"t":1,"d":{"a":1}}')
    const without = decodePayload('{"c":1,"t":1}')
    assert.ok(withData !== null && without !== null)
    assert.equal(Object.getPrototypeOf(withData.data), null)
    assert.equal(Object.getPrototypeOf(without.data), null)
    assert.equal('toString' in withData.data, false)
  })

  it("'__proto__' in the JSON pollutes nothing", () => {
    const json =
      '{"__proto__":{"polluted":1},"c":1,"t":1,"d":{"__proto__":{"polluted":2},"constructor":{"prototype":{"polluted":3}}},"a":{"__proto__":{"u":"admin"}}}'
    const decoded = decodePayload(json)
    assert.ok(decoded !== null)
    assert.equal(({} as { polluted?: unknown }).polluted, undefined)
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false)
    assert.equal(decoded.auth.userId, undefined, 'no login from a prototype')
    assert.equal((decoded.data as { polluted?: unknown }).polluted, undefined)
    // The session built from it is not polluted either.
    const s = new Session({ ...decoded, isNew: false })
    assert.equal((s._data as { polluted?: unknown }).polluted, undefined)
    assert.equal(({} as { polluted?: unknown }).polluted, undefined)
  })

  it('returns null for every wrong shape, and never throws', () => {
    const bad = [
      '',
      'not json',
      '{',
      'null',
      'true',
      '1',
      '"str"',
      '[]',
      '[{"c":1,"t":1}]',
      '{}',
      '{"c":1}',
      '{"t":1}',
      '{"c":"1","t":1}',
      '{"c":1,"t":null}',
      // bad auth fields
      '{"c":1,"t":1,"a":1}',
      '{"c":1,"t":1,"a":[]}',
      '{"c":1,"t":1,"a":null}',
      '{"c":1,"t":1,"a":"u1"}',
      '{"c":1,"t":1,"a":{"u":""}}',
      '{"c":1,"t":1,"a":{"u":true}}',
      '{"c":1,"t":1,"a":{"u":{}}}',
      '{"c":1,"t":1,"a":{"u":[1]}}',
      '{"c":1,"t":1,"a":{"u":null}}',
      '{"c":1,"t":1,"a":{"u":"x","i":5}}',
      '{"c":1,"t":1,"a":{"u":"x","i":{}}}',
      // bad data
      '{"c":1,"t":1,"d":[]}',
      '{"c":1,"t":1,"d":"x"}',
      '{"c":1,"t":1,"d":null}',
      '{"c":1,"t":1,"d":5}',
      // bad flashes
      '{"c":1,"t":1,"f":{}}',
      '{"c":1,"t":1,"f":"x"}',
      '{"c":1,"t":1,"f":null}',
      '{"c":1,"t":1,"f":["x"]}',
      '{"c":1,"t":1,"f":[["a"]]}',
      '{"c":1,"t":1,"f":[["a",1]]}',
      '{"c":1,"t":1,"f":[[1,"m"]]}',
      '{"c":1,"t":1,"f":[null]}',
      '{"c":1,"t":1,"f":[["ok","ok"],"bad"]}',
    ]
    for (const json of bad) {
      let result: unknown
      assert.doesNotThrow(() => {
        result = decodePayload(json)
      }, json)
      assert.equal(result, null, `for ${json}`)
    }
  })

  it('never throws on deeply nested or huge input', () => {
    const deep = `{"c":1,"t":1,"d":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`
    assert.doesNotThrow(() => decodePayload(deep))
    assert.doesNotThrow(() => decodePayload('['.repeat(100_000)))
  })

  it('ignores optional auth fields of the wrong type rather than trusting them', () => {
    const decoded = decodePayload('{"c":1,"t":1,"a":{"u":"x","r":"60","v":{},"n":5,"f":true}}')
    assert.ok(decoded !== null)
    assert.deepEqual(decoded.auth, { userId: 'x', fresh: false })
  })
})
