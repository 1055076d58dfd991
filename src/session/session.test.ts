import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Session } from './session.ts'

type Data = {
  theme: string
  cart: number[]
  count: number
  obj: { n: number }
  nothing: null
}

function fresh(init: Partial<ConstructorParameters<typeof Session>[0]> = {}): Session<Data> {
  return new Session<Data>({ createdAt: 100, lastActive: 100, isNew: true, ...init })
}

describe('Session values', () => {
  it('get/set/has/delete/keys', () => {
    const s = fresh()
    assert.equal(s.get('theme'), undefined)
    assert.equal(s.has('theme'), false)
    s.set('theme', 'dark')
    s.set('cart', [1, 2])
    s.set('nothing', null)
    assert.equal(s.get('theme'), 'dark')
    assert.deepEqual(s.get('cart'), [1, 2])
    assert.equal(s.get('nothing'), null)
    assert.equal(s.has('theme'), true)
    assert.equal(s.has('nothing'), true, 'a null value is stored')
    assert.deepEqual(s.keys().sort(), ['cart', 'nothing', 'theme'])
    assert.equal(s.delete('theme'), true)
    assert.equal(s.has('theme'), false)
    assert.equal(s.delete('theme'), false)
    assert.deepEqual(s.keys().sort(), ['cart', 'nothing'])
  })

  it('set(key, undefined) deletes the key', () => {
    const s = fresh({ data: { theme: 'dark' }, isNew: false })
    s.set('theme', undefined as unknown as string)
    assert.equal(s.has('theme'), false)
    assert.equal(s.modified, true)
  })

  it('set marks modified; reading does not', () => {
    const s = fresh({ data: { theme: 'dark' }, isNew: false })
    s.get('theme')
    s.has('theme')
    s.keys()
    void s.isEmpty
    void s.permanent
    assert.equal(s.modified, false)
    s.set('theme', 'light')
    assert.equal(s.modified, true)
  })

  it('deleting an absent key does not set modified', () => {
    const s = fresh({ data: { theme: 'dark' }, isNew: false })
    assert.equal(s.delete('count'), false)
    assert.equal(s.modified, false)
    s.set('count', undefined as unknown as number)
    assert.equal(s.modified, false, 'set(absent, undefined) is a no-op too')
    assert.equal(s.delete('theme'), true)
    assert.equal(s.modified, true)
  })

  it('markModified marks an in-place mutation', () => {
    const s = fresh({ data: { obj: { n: 1 } }, isNew: false })
    const obj = s.get('obj')
    assert.ok(obj !== undefined)
    obj.n = 2
    assert.equal(s.modified, false)
    s.markModified()
    assert.equal(s.modified, true)
    assert.equal(s.get('obj')?.n, 2)
  })

  it('never changes a cached (frozen) init, whatever the request does', () => {
    const auth = Object.freeze({ userId: 'u', fresh: true })
    const flashes = Object.freeze([Object.freeze({ category: 'info', message: 'hi' })])
    const dataJson = '{"cart":["a"],"theme":"dark"}'
    const cached = { auth, flashes: flashes as never, dataJson }
    const s = new Session({ ...cached, createdAt: 1, lastActive: 1, isNew: false })
    ;(s.get('cart') as string[]).push('b')
    s.markModified()
    s.set('theme', 'light')
    s.flash('more')
    s._patchAuth({ fresh: false })
    assert.deepEqual(s.consumeFlashes(), [
      { category: 'info', message: 'hi' },
      { category: 'message', message: 'more' },
    ])
    assert.deepEqual(auth, { userId: 'u', fresh: true })
    assert.equal(flashes.length, 1)
    // A second request with the same cookie starts from the untouched init.
    const again = new Session({ ...cached, createdAt: 1, lastActive: 1, isNew: false })
    assert.deepEqual(again.get('cart'), ['a'])
    assert.equal(again.get('theme'), 'dark')
    assert.equal(again._auth.fresh, true)
    assert.equal(again.consumeFlashes().length, 1)
    assert.equal(again.isEmpty, false)
    assert.equal(Object.getPrototypeOf(again._data), null)
  })

  it('a session with only data as JSON is not empty before its data is read', () => {
    const s = new Session({
      dataJson: '{"a":1}',
      createdAt: 1,
      lastActive: 1,
      isNew: false,
    })
    assert.equal(s.isEmpty, false)
    assert.deepEqual(s.keys(), ['a'])
  })

  it('refuses reserved keys with a TypeError', () => {
    const s = fresh()
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      assert.throws(() => s.set(key as 'theme', 'x'), {
        name: 'TypeError',
        message: `session key: '${key}' is reserved`,
      })
    }
    assert.throws(() => s.set('' as 'theme', 'x'), TypeError)
    assert.throws(() => s.set(42 as unknown as 'theme', 'x'), TypeError)
    assert.equal(s.modified, false)
    assert.equal(({} as { polluted?: unknown }).polluted, undefined)
  })

  it('refuses function, symbol and bigint values with a TypeError', () => {
    const s = fresh()
    const values: unknown[] = [() => 1, Symbol('x'), 10n]
    for (const value of values) {
      assert.throws(
        () => s.set('theme', value as string),
        (error: unknown) => {
          assert.ok(error instanceof TypeError)
          assert.match(error.message, /'theme'/)
          return true
        },
      )
    }
    assert.equal(s.has('theme'), false)
    assert.equal(s.modified, false)
  })

  it('refuses a value JSON cannot encode (nested bigint, a cycle) at set(), not later at commit', () => {
    // README: "Unstorable session values (functions, symbols, bigints) ... throw a TypeError".
    // Nested, they are accepted here and only fail when the cookie is written (inside commit, as
    // the response headers go out), far from the code that stored them.
    const s = fresh()
    assert.throws(() => s.set('obj', { n: 1n } as unknown as { n: number }), TypeError)
    const cyclic: { n: number; self?: unknown } = { n: 1 }
    cyclic.self = cyclic
    assert.throws(() => s.set('obj', cyclic), TypeError)
    assert.equal(s.has('obj'), false)
  })

  it('a null-prototype store: prototype names are not keys', () => {
    const s = fresh()
    assert.equal(s.has('toString'), false)
    assert.equal(s.get('toString' as 'theme'), undefined)
    assert.equal(s.has('hasOwnProperty'), false)
  })
})

describe('Session lifecycle flags', () => {
  it('permanent: false by default, setting marks modified only on change', () => {
    const s = fresh({ isNew: false })
    assert.equal(s.permanent, false)
    s.permanent = false
    assert.equal(s.modified, false)
    s.permanent = true
    assert.equal(s.permanent, true)
    assert.equal(s.modified, true)
    const p = fresh({ permanent: true, isNew: false })
    assert.equal(p.permanent, true)
    p.permanent = true
    assert.equal(p.modified, false)
  })

  it('clear empties data, login and flashes; clearing an empty session changes nothing', () => {
    const empty = fresh()
    empty.clear()
    assert.equal(empty.modified, false)

    const s = fresh({
      data: { theme: 'dark' },
      auth: { userId: 'u1', fresh: true },
      flashes: [{ category: 'message', message: 'hi' }],
      isNew: false,
    })
    assert.equal(s.isEmpty, false)
    s.clear()
    assert.equal(s.isEmpty, true)
    assert.deepEqual(s.keys(), [])
    assert.deepEqual(s._auth, {})
    assert.deepEqual(s.consumeFlashes(), [])
    assert.equal(s.modified, true)
  })

  it('clear drops permanent too (Flask keeps it as the `_permanent` key, which clear removes)', () => {
    const s = fresh({ permanent: true, auth: { userId: 'u1' }, isNew: false })
    s.clear()
    assert.equal(s.permanent, false)
    assert.equal(s._changes.permanent, true)
    const only = fresh({ permanent: true, isNew: false })
    only.clear()
    assert.equal(only.permanent, false)
    assert.equal(only.modified, true)
  })

  it('isEmpty counts data, login state and flashes', () => {
    assert.equal(fresh().isEmpty, true)
    assert.equal(fresh({ data: { theme: 'x' } }).isEmpty, false)
    assert.equal(fresh({ auth: { userId: 'u' } }).isEmpty, false)
    assert.equal(fresh({ flashes: [{ category: 'c', message: 'm' }] }).isEmpty, false)
    const s = fresh()
    s.set('theme', 'x')
    s.delete('theme')
    assert.equal(s.isEmpty, true)
  })
})

describe('Session flashes', () => {
  it('flash queues messages with a default category and marks modified', () => {
    const s = fresh({ isNew: false })
    s.flash('Saved!')
    s.flash('Careful', 'warning')
    assert.equal(s.modified, true)
    assert.deepEqual(s.consumeFlashes(), [
      { category: 'message', message: 'Saved!' },
      { category: 'warning', message: 'Careful' },
    ])
    assert.deepEqual(s.consumeFlashes(), [], 'consumed once')
  })

  it('flash refuses a non-string message', () => {
    assert.throws(() => fresh().flash(42 as unknown as string), TypeError)
  })

  it('consumeFlashes(category) takes only that category and keeps the others in order', () => {
    const s = fresh({
      flashes: [
        { category: 'error', message: 'e1' },
        { category: 'info', message: 'i1' },
        { category: 'error', message: 'e2' },
        { category: 'success', message: 's1' },
      ],
      isNew: false,
    })
    assert.deepEqual(s.consumeFlashes('error'), [
      { category: 'error', message: 'e1' },
      { category: 'error', message: 'e2' },
    ])
    assert.equal(s.modified, true)
    assert.deepEqual(s.consumeFlashes('missing'), [])
    assert.deepEqual(s.consumeFlashes(), [
      { category: 'info', message: 'i1' },
      { category: 'success', message: 's1' },
    ])
  })

  it('consuming nothing does not mark modified', () => {
    const s = fresh({ flashes: [{ category: 'info', message: 'i' }], isNew: false })
    assert.deepEqual(s.consumeFlashes('error'), [])
    assert.equal(s.modified, false)
    const empty = fresh({ isNew: false })
    assert.deepEqual(empty.consumeFlashes(), [])
    assert.equal(empty.modified, false)
  })
})

describe('Session login state helpers', () => {
  it('_patchAuth marks modified only when a value changes, and removes undefined fields', () => {
    const s = fresh({ auth: { userId: 'u', fresh: true }, isNew: false })
    s._patchAuth({ fresh: true })
    assert.equal(s.modified, false)
    s._patchAuth({ fresh: false, next: undefined })
    assert.equal(s.modified, true)
    assert.deepEqual(s._auth, { userId: 'u', fresh: false })
    const t = fresh({ auth: { userId: 'u', next: '/x' }, isNew: false })
    t._patchAuth({ next: undefined })
    assert.deepEqual(t._auth, { userId: 'u' })
    assert.equal(t.modified, true)
  })

  it('_setAuth replaces the login state and marks modified', () => {
    const s = fresh({ auth: { userId: 'u', fresh: true }, isNew: false })
    s._setAuth({})
    assert.deepEqual(s._auth, {})
    assert.equal(s.modified, true)
  })
})
