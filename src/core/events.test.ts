import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AdapterRequest } from '../shared/types.ts'
import { TypedEvents } from './events.ts'
import { LoginManager } from './login-manager.ts'

interface Events {
  ping: { n: number }
  pong: string
}

describe('TypedEvents', () => {
  it('calls listeners in subscription order with the payload', () => {
    const events = new TypedEvents<Events>()
    const calls: string[] = []
    events.on('ping', ({ n }) => calls.push(`a${n}`))
    events.on('ping', ({ n }) => calls.push(`b${n}`))
    events.on('pong', (s) => calls.push(`pong:${s}`))
    events.emit('ping', { n: 1 })
    events.emit('pong', 'x')
    events.emit('ping', { n: 2 })
    assert.deepEqual(calls, ['a1', 'b1', 'pong:x', 'a2', 'b2'])
  })

  it('emitting with no listeners does nothing and does not throw', () => {
    const events = new TypedEvents<Events>()
    assert.doesNotThrow(() => events.emit('ping', { n: 1 }))
    assert.equal(events.hasListeners('ping'), false)
  })

  it('on() returns an unsubscribe function', () => {
    const events = new TypedEvents<Events>()
    const calls: number[] = []
    const off = events.on('ping', ({ n }) => calls.push(n))
    events.emit('ping', { n: 1 })
    off()
    events.emit('ping', { n: 2 })
    assert.deepEqual(calls, [1])
    assert.doesNotThrow(off, 'calling it twice is harmless')
  })

  it('off() removes exactly that listener and leaves the others', () => {
    const events = new TypedEvents<Events>()
    const calls: string[] = []
    const a = () => calls.push('a')
    const b = () => calls.push('b')
    events.on('ping', a)
    events.on('ping', b)
    events.off('ping', a)
    events.emit('ping', { n: 0 })
    assert.deepEqual(calls, ['b'])
    events.off('pong', a) // never subscribed: no-op
    events.off('ping', a) // already removed: no-op
    events.emit('ping', { n: 0 })
    assert.deepEqual(calls, ['b', 'b'])
  })

  it('a listener added twice runs twice and is removed one subscription at a time', () => {
    const events = new TypedEvents<Events>()
    let count = 0
    const listener = () => {
      count++
    }
    events.on('ping', listener)
    events.on('ping', listener)
    events.emit('ping', { n: 0 })
    assert.equal(count, 2)
    events.off('ping', listener)
    events.emit('ping', { n: 0 })
    assert.equal(count, 3)
  })

  it('hasListeners follows subscriptions per event', () => {
    const events = new TypedEvents<Events>()
    assert.equal(events.hasListeners('ping'), false)
    const off1 = events.on('ping', () => {})
    const off2 = events.on('ping', () => {})
    assert.equal(events.hasListeners('ping'), true)
    assert.equal(events.hasListeners('pong'), false)
    off1()
    assert.equal(events.hasListeners('ping'), true)
    off2()
    assert.equal(events.hasListeners('ping'), false)
  })

  it('a once-style listener that removes itself during emit runs once; the others still run', () => {
    const events = new TypedEvents<Events>()
    const calls: string[] = []
    const off = events.on('ping', ({ n }) => {
      calls.push(`once${n}`)
      off()
    })
    events.on('ping', ({ n }) => calls.push(`always${n}`))
    events.emit('ping', { n: 1 })
    events.emit('ping', { n: 2 })
    assert.deepEqual(calls, ['once1', 'always1', 'always2'])
  })

  it('a listener subscribed during emit is not called in that same emit', () => {
    const events = new TypedEvents<Events>()
    const calls: string[] = []
    events.on('ping', () => {
      calls.push('first')
      if (calls.length === 1) events.on('ping', () => calls.push('late'))
    })
    events.emit('ping', { n: 1 })
    assert.deepEqual(calls, ['first'])
    events.emit('ping', { n: 2 })
    assert.deepEqual(calls, ['first', 'first', 'late'])
  })

  it("a listener's exception propagates to the emitter", () => {
    const events = new TypedEvents<Events>()
    events.on('pong', () => {
      throw new Error('boom')
    })
    assert.throws(() => events.emit('pong', 'x'), /boom/)
  })
})

describe('LoginManager events', () => {
  const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'
  const adapter: AdapterRequest = {
    method: 'GET',
    url: '/',
    header: () => undefined,
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }

  it('the manager is an emitter: userLoggedIn and userLoggedOut fire with the user', async () => {
    const m = new LoginManager<{ id: string }>({ secret: SECRET, userLoader: (id) => ({ id }) })
    const seen: string[] = []
    const offIn = m.on('userLoggedIn', ({ user }) => seen.push(`in:${user.id}`))
    m.on('userLoggedOut', ({ user }) => seen.push(`out:${(user as { id: string }).id}`))
    const auth = m.createAuth(adapter)
    const alice = { id: 'alice', getId: () => 'alice' }
    await auth.loginUser(alice)
    await auth.logoutUser()
    offIn()
    await m.createAuth(adapter).loginUser(alice)
    assert.deepEqual(seen, ['in:alice', 'out:alice'])
  })
})
