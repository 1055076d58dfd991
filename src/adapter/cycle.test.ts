import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { LoginManagerOptions } from '../core/login-manager.ts'
import { LoginManager } from '../core/login-manager.ts'
import { UserMixin } from '../core/mixins.ts'
import type { SessionStore, StoreWrite } from '../session/store.ts'
import { MemoryStore } from '../stores/memory.ts'
import { testLogin } from '../testing/index.ts'
import { type RequestCycle, startRequest } from './cycle.ts'
import { STORE_UNAVAILABLE } from './failure.ts'
import type { AdapterRequest } from './types.ts'

const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}
const users = new Map([['ann', new User('ann')]])

/** A MemoryStore whose reads or writes can be made to fail. */
class FlakyStore extends MemoryStore {
  failGet = false
  failWrite = false
  override async get(key: string) {
    if (this.failGet) throw new Error('store down')
    return super.get(key)
  }
  override async write(key: string, write: StoreWrite) {
    if (this.failWrite) throw new Error('store down')
    return super.write(key, write)
  }
}

function manager(options: Partial<LoginManagerOptions<User, string>> = {}) {
  return new LoginManager<User, string>({
    secret: SECRET,
    userLoader: (id) => users.get(id) ?? null,
    loginView: '/login',
    ...options,
  })
}

function request(cookie?: string, method = 'GET'): AdapterRequest {
  const headers: Record<string, string | undefined> = { cookie, 'user-agent': 'Test/1.0' }
  return {
    method,
    url: '/private?x=1',
    header: (name) => headers[name],
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }
}

const settle = async <T>(value: T | Promise<T>): Promise<T> => value

describe('RequestCycle.ready', () => {
  it('answers null synchronously with cookie sessions and for a request without cookies', () => {
    assert.equal(startRequest(manager(), request('a=b')).ready(), null)
    const store = manager({ session: { store: new MemoryStore() } })
    assert.equal(startRequest(store, request()).ready(), null)
  })

  it('loads a store session, then the guard passes synchronously', async () => {
    const m = manager({ session: { store: new MemoryStore() } })
    const cookie = await testLogin(m, users.get('ann') as User)
    const cycle = startRequest(m, request(cookie))
    const loading = cycle.ready()
    assert.ok(loading instanceof Promise)
    assert.equal(await loading, null)
    assert.equal(cycle.ready(), loading, 'a second call answers the same')
    assert.equal(cycle.guard('login'), null)
  })

  it("answers the store-failure reply for a failed load with onStoreError 'fail', and remembers it", async () => {
    const store = new FlakyStore()
    const m = manager({ session: { store, onStoreError: 'fail' } })
    const cookie = await testLogin(m, users.get('ann') as User)
    store.failGet = true
    const cycle = startRequest(m, request(cookie))
    assert.equal(await cycle.ready(), STORE_UNAVAILABLE)
    assert.equal(await settle(cycle.guard('login')), STORE_UNAVAILABLE)
    const finish = cycle.finish(200, {})
    assert.ok(finish !== null)
    assert.equal(await finish.writes, STORE_UNAVAILABLE, 'an unguarded route gets it from finish')
  })

  it("lets the request go on anonymous with onStoreError 'anonymous'", async () => {
    const store = new FlakyStore()
    const m = manager({ session: { store, onStoreError: 'anonymous' } })
    const cookie = await testLogin(m, users.get('ann') as User)
    store.failGet = true
    const cycle = startRequest(m, request(cookie))
    assert.equal(await cycle.ready(), null)
    const reply = await settle(cycle.guard('login'))
    assert.equal(reply?.status, 302)
  })
})

describe('RequestCycle.guard', () => {
  it('passes a logged-in request synchronously and renders a refusal', async () => {
    const m = manager()
    const cookie = await testLogin(m, users.get('ann') as User)
    assert.equal(startRequest(m, request(cookie)).guard('login'), null)
    const refused = await settle(startRequest(m, request()).guard('login'))
    assert.equal(refused?.status, 302)
    assert.equal(refused?.headers.location, '/login?next=%2Fprivate%3Fx%3D1')
    assert.equal(refused?.headers['content-type'], 'text/plain; charset=utf-8')
  })

  it("'fresh' refuses a login restored from remember-me", async () => {
    const m = manager({ refreshView: '/reauth' })
    const cookie = await testLogin(m, users.get('ann') as User, { fresh: false })
    assert.equal(startRequest(m, request(cookie)).guard('login'), null)
    const reply = await settle(startRequest(m, request(cookie)).guard('fresh'))
    assert.equal(reply?.status, 302)
    assert.match(reply?.headers.location ?? '', /^\/reauth\?next=/)
  })

  it('answers an exempt method without a login 204 with no body', async () => {
    const reply = await settle(
      startRequest(manager(), request(undefined, 'OPTIONS')).guard('login'),
    )
    assert.deepEqual(reply, { status: 204, headers: {}, body: '' })
  })

  it('loads the store session itself when ready() was not called', async () => {
    const m = manager({ session: { store: new MemoryStore() } })
    const cookie = await testLogin(m, users.get('ann') as User)
    const decision = startRequest(m, request(cookie)).guard('login')
    assert.ok(decision instanceof Promise)
    assert.equal(await decision, null)
  })

  it("rejects with the loader's own error", async () => {
    const m = manager({
      userLoader: () => {
        throw new Error('db down')
      },
    })
    const cookie = await testLogin(m, new User('ann'))
    await assert.rejects(settle(startRequest(m, request(cookie)).guard('login')), /db down/)
  })
})

describe('RequestCycle.finish', () => {
  it('is null for a request that touched nothing, and on a second call', async () => {
    assert.equal(startRequest(manager(), request()).finish(200, {}), null)
    const m = manager()
    const cycle = startRequest(m, request(await testLogin(m, users.get('ann') as User)))
    cycle.guard('login')
    assert.notEqual(cycle.finish(200, {}), null)
    assert.equal(cycle.finish(200, {}), null)
  })

  it('adds Cookie to Vary and a private Cache-Control to a response that read the session', async () => {
    const m = manager()
    let cookie = await testLogin(m, users.get('ann') as User)
    const read = (current: { vary?: string; cacheControl?: string }) => {
      const cycle = startRequest(m, request(cookie))
      assert.equal(cycle.guard('login'), null)
      return cycle.finish(200, current)
    }
    // The first request binds the session to the client (session protection): it re-seals.
    const bound = read({})?.setCookie[0]
    assert.ok(bound !== undefined)
    cookie = bound.split(';')[0] as string
    assert.deepEqual(read({}), {
      setCookie: [],
      vary: 'Cookie',
      cacheControl: 'private',
      writes: undefined,
    })
    const kept = read({ vary: 'Accept', cacheControl: 'max-age=60' })
    assert.equal(kept?.vary, 'Accept, Cookie')
    assert.equal(kept?.cacheControl, undefined, "the app's own Cache-Control stays")
    assert.equal(read({ vary: 'cookie' })?.vary, undefined, 'Vary already covers cookies')
  })

  it('sets a cookie with a no-store Cache-Control on a login', async () => {
    const cycle = startRequest(manager(), request())
    await cycle.auth.loginUser(users.get('ann') as User)
    const finish = cycle.finish(200, { cacheControl: 'public, max-age=60' })
    assert.equal(finish?.setCookie.length, 1)
    assert.match(finish?.setCookie[0] ?? '', /^__Host-session=/)
    assert.equal(finish?.cacheControl, 'private, no-store')
    assert.equal(finish?.vary, 'Cookie')
    assert.equal(finish?.writes, undefined)
  })

  it('waits for store writes: null when they land', async () => {
    const cycle = startRequest(manager({ session: { store: new MemoryStore() } }), request())
    await cycle.auth.loginUser(users.get('ann') as User)
    const finish = cycle.finish(200, {})
    assert.ok(finish?.writes instanceof Promise)
    assert.equal(await finish.writes, null)
  })

  it('replaces the response with the store-failure reply when a write fails', async () => {
    const store = new FlakyStore()
    store.failWrite = true
    const cycle = startRequest(manager({ session: { store } }), request())
    await cycle.auth.loginUser(users.get('ann') as User)
    const writes = cycle.finish(200, { vary: 'Accept' })?.writes
    assert.equal(await writes, STORE_UNAVAILABLE)
  })
})

describe('the failure rule', () => {
  it('is one reply: 503, four headers, a text body', () => {
    assert.deepEqual(
      { ...STORE_UNAVAILABLE, headers: { ...STORE_UNAVAILABLE.headers } },
      {
        status: 503,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'retry-after': '5',
          'cache-control': 'no-store',
          vary: 'Cookie',
        },
        body: 'Service Unavailable: the session store cannot be reached',
      },
    )
    assert.ok(Object.isFrozen(STORE_UNAVAILABLE) && Object.isFrozen(STORE_UNAVAILABLE.headers))
  })

  it('answers a failed remember-me restore on the store with the same reply', async () => {
    const store = new FlakyStore()
    const m = manager({ session: { store, onStoreError: 'fail' } })
    const login = startRequest(m, request())
    await login.auth.loginUser(users.get('ann') as User, { remember: true })
    const effects = login.finish(200, {})
    assert.equal(await effects?.writes, null)
    const remember = effects?.setCookie.find((c) => c.startsWith('__Host-remember='))
    assert.ok(remember !== undefined)
    store.failGet = true
    const cycle: RequestCycle<User, string> = startRequest(m, request(remember.split(';')[0]))
    assert.equal(await settle(cycle.guard('login')), STORE_UNAVAILABLE)
    assert.equal(await cycle.finish(503, {})?.writes, STORE_UNAVAILABLE)
  })
})

// Keeps the type import used: FlakyStore is a SessionStore.
const _check: SessionStore = new FlakyStore()
void _check
