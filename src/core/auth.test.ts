import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../shared/errors.ts'
import type { AdapterRequest } from '../shared/types.ts'
import { MemoryStore } from '../stores/memory.ts'
import { testLogin } from '../testing/index.ts'
import type { RequestAuth, ResponseEffects } from './auth.ts'
import { LoginManager, type LoginManagerOptions } from './login-manager.ts'
import { UserMixin } from './mixins.ts'
import type { KeepOnLogin } from './options.ts'
import { isAuthOutcome } from './outcome.ts'

const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'
const T0 = Date.UTC(2030, 0, 1, 12) // ms

class User extends UserMixin {
  constructor(
    readonly id: string,
    public version = 1,
    public active = true,
  ) {
    super()
  }
  override get isActive(): boolean {
    return this.active
  }
}

interface Req {
  cookie?: string | undefined
  ua?: string
  ip?: string
  method?: string
  path?: string
  headers?: Record<string, string>
}

function adapter(req: Req = {}): AdapterRequest {
  const headers: Record<string, string | undefined> = {
    'user-agent': req.ua ?? 'Browser/1.0',
    cookie: req.cookie,
    ...req.headers,
  }
  return {
    method: req.method ?? 'GET',
    url: req.path ?? '/',
    header: (name) => headers[name],
    clientAddress: req.ip ?? '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }
}

/** A browser's cookie jar, enough for these tests: name → value, deletions honoured. */
class Jar {
  values = new Map<string, string>()
  apply(effects: ResponseEffects | null): void {
    for (const header of effects?.cookies ?? []) {
      const pair = header.split(';', 1)[0] ?? ''
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      if (value === '' || /;\s*Max-Age=0(;|$)/i.test(header)) this.values.delete(name)
      else this.values.set(name, value)
    }
  }
  get header(): string | undefined {
    if (this.values.size === 0) return undefined
    return [...this.values].map(([n, v]) => `${n}=${v}`).join('; ')
  }
  clone(): Jar {
    const jar = new Jar()
    jar.values = new Map(this.values)
    return jar
  }
}

interface SetupOptions extends Partial<LoginManagerOptions<User>> {
  asyncLoader?: boolean
}

function setup(setupOptions: SetupOptions = {}) {
  const { asyncLoader = false, ...options } = setupOptions
  const clock = { t: T0 }
  const users = new Map(['alice', 'bob', 'carol'].map((id) => [id, new User(id)]))
  const loads: string[] = []
  const load = (id: string) => {
    loads.push(id)
    return users.get(id) ?? null
  }
  const m = new LoginManager<User>({
    secret: SECRET,
    now: () => clock.t,
    userLoader: asyncLoader ? async (id) => load(id) : load,
    ...options,
  })
  const rejections: string[] = []
  m.on('cookieRejected', ({ cookie, reason }) => rejections.push(`${cookie}:${reason}`))
  const jar = new Jar()
  async function send<T>(
    fn: (auth: RequestAuth<User>) => T | Promise<T>,
    req: Req = {},
    status = 200,
    using: Jar = jar,
  ) {
    const auth = m.createAuth(adapter({ cookie: using.header, ...req }))
    const result = await fn(auth)
    const effects = auth.commitResponse(status)
    using.apply(effects)
    return { auth, result, effects }
  }
  const alice = users.get('alice') as User
  const bob = users.get('bob') as User
  return { clock, users, loads, m, rejections, jar, send, alice, bob }
}

function find(effects: ResponseEffects | null, name: string): string | undefined {
  return effects?.cookies.find((c) => c.startsWith(`${name}=`))
}

function attributes(header: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const part of header.split(';').slice(1)) {
    const [k = '', v = ''] = part.trim().split('=')
    map.set(k.toLowerCase(), v)
  }
  return map
}

function maxAge(header: string | undefined): number | undefined {
  const match = /;\s*Max-Age=(\d+)/.exec(header ?? '')
  return match === null ? undefined : Number(match[1])
}

describe('response effects', () => {
  it('no Set-Cookie and no Vary when nothing was touched (commit returns null)', async () => {
    const { m, loads } = setup()
    const auth = m.createAuth(adapter())
    void auth.request.path
    assert.equal(auth.commitResponse(200), null)
    assert.deepEqual(loads, [])
    // The same with a cookie present but never read.
    const withCookie = m.createAuth(adapter({ cookie: `${SESSION}=whatever; other=1` }))
    assert.equal(withCookie.commitResponse(200), null)
  })

  it('commit runs once; a second call returns null', async () => {
    const { m } = setup()
    const auth = m.createAuth(adapter())
    auth.session.set('a' as never, 1 as never)
    assert.ok(auth.commitResponse(200) !== null)
    assert.equal(auth.commitResponse(200), null)
  })

  it('Vary without Set-Cookie when the session was only read', async () => {
    const { send } = setup()
    await send((auth) => auth.loginUser(setup().alice))
    const { effects } = await send((auth) => auth.getUser())
    assert.deepEqual(effects, { cookies: [], vary: true, noStore: false })
    const noCookie = setup()
    const anon = await noCookie.send((auth) => auth.session.get('x' as never))
    assert.deepEqual(anon.effects, { cookies: [], vary: true, noStore: false })
  })

  it('a new session that stays empty sets no cookie', async () => {
    const { send, jar } = setup()
    const { effects } = await send((auth) => {
      auth.session.set('a' as never, 1 as never)
      auth.session.delete('a')
      auth.session.permanent = false
    })
    assert.deepEqual(effects?.cookies, [])
    assert.equal(effects?.noStore, false)
    assert.equal(jar.header, undefined)
    const anonymous = await send((auth) => auth.getUser())
    assert.deepEqual(anonymous.effects?.cookies, [])
  })

  it('Set-Cookie and noStore when the session changed', async () => {
    const { send } = setup()
    const { effects } = await send((auth) => auth.session.set('theme' as never, 'dark' as never))
    assert.equal(effects?.cookies.length, 1)
    const header = effects?.cookies[0] ?? ''
    assert.match(header, /^__Host-session=v1\.[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    assert.equal(effects?.vary, true)
    assert.equal(effects?.noStore, true)
  })

  it('touchInterval: the session is re-sealed only once the interval has passed', async () => {
    const { clock, send, jar } = setup()
    await send((auth) => auth.loginUser(setup().alice))
    const original = jar.clone()
    clock.t = T0 + 59_000
    assert.deepEqual((await send((auth) => auth.getUser())).effects?.cookies, [])
    clock.t = T0 + 60_000
    const touched = await send((auth) => auth.getUser())
    assert.equal(touched.effects?.cookies.length, 1)
    assert.equal(touched.effects?.noStore, true)
    // The touch renews the idle timeout: the touched cookie outlives the original one.
    clock.t = T0 + 3601_000
    assert.ok((await send((auth) => auth.getUser())).result instanceof User)
    const stale = await send((auth) => auth.getUser(), {}, 200, original)
    assert.equal(stale.result, null)
  })

  it('a permanent session gets Max-Age = min(idle, absolute remaining); others none', async () => {
    const { clock, send } = setup({
      session: { idleTimeout: 100, absoluteTimeout: 150, touchInterval: 10 },
    })
    const first = await send(async (auth) => {
      await auth.loginUser(setup().alice)
      auth.session.permanent = true
    })
    const header = find(first.effects, SESSION)
    assert.equal(maxAge(header), 100)
    assert.match(header ?? '', new RegExp(`Expires=${new Date(T0 + 100_000).toUTCString()}`))
    clock.t = T0 + 90_000
    const later = await send((auth) => auth.getUser())
    assert.equal(maxAge(find(later.effects, SESSION)), 60, 'capped by the absolute timeout')

    const plain = setup()
    const { effects } = await plain.send((auth) => auth.loginUser(plain.alice))
    const session = find(effects, SESSION) ?? ''
    assert.equal(maxAge(session), undefined)
    assert.doesNotMatch(session, /Expires=/)
  })

  it('a 5xx status persists nothing', async () => {
    const { send, jar } = setup()
    const { effects } = await send(
      (auth) => auth.loginUser(setup().alice, { remember: true }),
      {},
      500,
    )
    assert.deepEqual(effects?.cookies, [])
    assert.equal(effects?.noStore, false)
    assert.equal(jar.header, undefined)

    await send((auth) => auth.loginUser(setup().alice))
    const failedLogout = await send((auth) => auth.logoutUser(), {}, 503)
    assert.deepEqual(failedLogout.effects?.cookies, [])
    assert.ok((await send((auth) => auth.getUser())).result instanceof User)
  })

  it('fractional durations never make commit throw (refused at construction or rounded)', async () => {
    // The options accept any finite number of seconds in range, but a cookie Max-Age must be an
    // integer; a value like 100.5 must either be refused up front or be rounded when written.
    const cases: Array<[SetupOptions, (auth: RequestAuth<User>, user: User) => Promise<unknown>]> =
      [
        [{ remember: { duration: 100.5 } }, (auth, u) => auth.loginUser(u, { remember: true })],
        [
          { session: { idleTimeout: 100.5, absoluteTimeout: 1000 } },
          async (auth, u) => {
            await auth.loginUser(u)
            auth.session.permanent = true
          },
        ],
        [{}, (auth, u) => auth.loginUser(u, { remember: true, duration: 1.5 })],
      ]
    for (const [options, act] of cases) {
      let ctx: ReturnType<typeof setup>
      try {
        ctx = setup(options)
      } catch (error) {
        assert.equal((error as LoginManagerError).code, 'ERR_INVALID_OPTION')
        continue
      }
      const auth = ctx.m.createAuth(adapter())
      try {
        await act(auth, ctx.alice)
      } catch (error) {
        assert.ok(error instanceof TypeError, 'a per-login duration may be refused by loginUser')
        continue
      }
      let effects: ResponseEffects | null = null
      assert.doesNotThrow(
        () => {
          effects = auth.commitResponse(200)
        },
        `commit threw for ${JSON.stringify(options)}`,
      )
      for (const header of (effects as ResponseEffects | null)?.cookies ?? []) {
        const age = maxAge(header)
        if (age !== undefined) assert.ok(Number.isInteger(age))
      }
    }
  })
})

describe('loginUser', () => {
  it('rotates: a new cookie value even when the content is identical', async () => {
    const { send, jar, alice } = setup()
    await send((auth) => auth.loginUser(alice))
    const first = jar.values.get(SESSION)
    const { effects } = await send((auth) => auth.loginUser(alice))
    const second = jar.values.get(SESSION)
    assert.equal(effects?.cookies.length, 1, 'login always issues a new session cookie')
    assert.ok(first !== undefined && second !== undefined && first !== second)
  })

  it('resets createdAt, so the absolute timeout counts from the latest login', async () => {
    const { clock, send, alice, rejections } = setup({
      session: { idleTimeout: 250, absoluteTimeout: 300, touchInterval: 10 },
    })
    await send((auth) => auth.loginUser(alice))
    clock.t = T0 + 200_000
    await send((auth) => auth.loginUser(alice))
    clock.t = T0 + 350_000
    const { result } = await send((auth) => auth.getUser())
    assert.ok(result instanceof User, 'logged in 150 s ago, under the 300 s absolute timeout')
    assert.deepEqual(rejections, [])
  })

  it('keeps the session data of the same user, drops it when another user logs in', async () => {
    const { send, alice, bob } = setup()
    await send((auth) => auth.session.set('cart' as never, [1, 2] as never))
    await send((auth) => auth.loginUser(alice))
    assert.deepEqual((await send((auth) => auth.session.get('cart' as never))).result, [1, 2])
    await send((auth) => auth.loginUser(alice))
    assert.deepEqual((await send((auth) => auth.session.get('cart' as never))).result, [1, 2])
    const { result } = await send(async (auth) => {
      await auth.loginUser(bob)
      return auth.session.get('cart' as never)
    })
    assert.equal(result, undefined)
    assert.equal((await send((auth) => auth.session.get('cart' as never))).result, undefined)
    assert.equal((await send((auth) => auth.getUser())).result, bob)
  })

  it("keepOnLogin: 'all' keeps pre-login data, 'none' drops it, a list keeps only those keys; flashes and next always survive", async () => {
    const cases: [keep: KeepOnLogin | undefined, kept: string[]][] = [
      [undefined, ['cart', 'theme', 'tracking']],
      ['all', ['cart', 'theme', 'tracking']],
      ['none', []],
      [
        ['cart', 'theme', 'absent'],
        ['cart', 'theme'],
      ],
      [[], []],
    ]
    for (const [keep, kept] of cases) {
      const label = JSON.stringify(keep ?? 'default')
      const { send, alice } = setup({
        useSessionForNext: true,
        loginView: '/login',
        session: { keepOnLogin: keep },
      })
      await send((auth) => {
        auth.session.set('cart' as never, [1, 2] as never)
        auth.session.set('theme' as never, 'dark' as never)
        auth.session.set('tracking' as never, 'abc' as never)
        auth.flash('before login')
      })
      // An anonymous visit to a guarded page keeps `next` in the session (and flashes the message).
      await send((auth) => auth.checkLogin(), { path: '/private' })
      const { result } = await send(async (auth) => {
        await auth.loginUser(alice)
        return auth.session.keys().sort()
      })
      assert.deepEqual(result, kept, `${label}: the keys kept by the login itself`)
      const after = await send((auth) => ({
        keys: auth.session.keys().sort(),
        flashes: auth.consumeFlashes().map((f) => f.message),
        next: auth.nextUrl('/fallback'),
        user: auth.user,
      }))
      assert.deepEqual(after.result.keys, kept, `${label}: the keys of the next request`)
      assert.deepEqual(
        after.result.flashes,
        ['before login', 'Please log in to access this page.'],
        label,
      )
      assert.equal(after.result.next, '/private', `${label}: next survives`)
      assert.equal(after.result.user, alice, label)
    }
  })

  it('loginUser({ keep }) overrides session.keepOnLogin for one login', async () => {
    const { send, alice } = setup({ session: { keepOnLogin: 'none' } })
    const seed = (auth: RequestAuth<User>) => {
      auth.session.set('cart' as never, [1] as never)
      auth.session.set('theme' as never, 'dark' as never)
    }
    await send(seed)
    await send((auth) => auth.loginUser(alice, { keep: ['cart'] }))
    assert.deepEqual((await send((auth) => auth.session.keys())).result, ['cart'])
    await send(seed)
    await send((auth) => auth.loginUser(alice, { keep: 'all' }))
    assert.deepEqual((await send((auth) => auth.session.keys().sort())).result, ['cart', 'theme'])
    await send((auth) => auth.loginUser(alice))
    assert.deepEqual((await send((auth) => auth.session.keys())).result, [], "the option's 'none'")
  })

  it("another user's data never survives a login, whatever keep says; their flashes do", async () => {
    for (const keep of ['all', ['cart']] as const) {
      const { send, alice, bob } = setup({ session: { keepOnLogin: keep } })
      await send((auth) => auth.loginUser(alice))
      await send((auth) => {
        auth.session.set('cart' as never, ['alice'] as never)
        auth.flash('saved')
      })
      await send((auth) => auth.loginUser(bob, { keep }))
      const { result } = await send((auth) => ({
        keys: auth.session.keys(),
        flashes: auth.consumeFlashes().map((f) => f.message),
      }))
      assert.deepEqual(result, { keys: [], flashes: ['saved'] }, JSON.stringify(keep))
    }
  })

  it('an invalid keep is a TypeError, before anything changes', async () => {
    const { send, alice } = setup()
    await send((auth) => auth.session.set('cart' as never, [1] as never))
    for (const keep of ['cart', 'All', [1], [''], { cart: true }, null]) {
      await assert.rejects(
        send((auth) => auth.loginUser(alice, { keep: keep as never })),
        (error: unknown) => error instanceof TypeError && /^keep must be/.test(error.message),
        JSON.stringify(keep),
      )
    }
    const { result } = await send((auth) => ({ user: auth.user, keys: auth.session.keys() }))
    assert.deepEqual(result, { user: null, keys: ['cart'] })
  })

  it('without remember, deletes a remember cookie left by an earlier login', async () => {
    const { send, jar, alice, bob } = setup()
    await send((auth) => auth.loginUser(alice, { remember: true }))
    assert.ok(jar.values.has(REMEMBER))
    const { effects } = await send((auth) => auth.loginUser(bob))
    const deletion = find(effects, REMEMBER)
    assert.ok(deletion !== undefined)
    assert.equal(maxAge(deletion), 0)
    assert.equal(jar.values.has(REMEMBER), false)
  })

  it('refuses an inactive user unless forced', async () => {
    const { send, users } = setup()
    const carol = users.get('carol') as User
    carol.active = false
    const refused = await send((auth) => auth.loginUser(carol))
    assert.equal(refused.result, false)
    assert.deepEqual(refused.effects?.cookies ?? [], [])
    const forced = await send((auth) => auth.loginUser(carol, { force: true }))
    assert.equal(forced.result, true)
    assert.ok(find(forced.effects, SESSION))
  })
})

describe('logoutUser', () => {
  it('clears the login and `next`, keeps app data, deletes the remember cookie with its attributes', async () => {
    const remember = {
      name: 'rem',
      domain: 'example.com',
      path: '/app',
      secure: true,
      httpOnly: true,
      sameSite: 'strict' as const,
    }
    const { send, jar, alice } = setup({ remember, useSessionForNext: true, loginView: '/login' })
    // 1. An anonymous visit to a protected page keeps `next` in the session.
    await send(
      async (auth) => {
        auth.session.set('theme' as never, 'dark' as never)
        const outcome = await auth.unauthorized()
        assert.equal(outcome.type, 'redirect')
      },
      { path: '/private?x=1' },
    )
    // 2. Login with remember-me.
    const login = await send((auth) => auth.loginUser(alice, { remember: true }))
    const set = find(login.effects, 'rem')
    assert.ok(set !== undefined)
    assert.equal(
      (await send((auth) => auth.nextUrl('/home'), {}, 200, jar.clone())).result,
      '/private?x=1',
      'next survived the login',
    )
    // 3. Logout.
    const logout = await send((auth) => auth.logoutUser())
    const deletion = find(logout.effects, 'rem')
    assert.ok(deletion !== undefined)
    assert.equal(logout.effects?.noStore, true)
    const setAttrs = attributes(set)
    const delAttrs = attributes(deletion)
    assert.equal(delAttrs.get('max-age'), '0')
    assert.equal(delAttrs.get('expires'), 'Thu, 01 Jan 1970 00:00:00 GMT')
    for (const attr of ['max-age', 'expires']) {
      setAttrs.delete(attr)
      delAttrs.delete(attr)
    }
    assert.deepEqual(delAttrs, setAttrs)
    assert.deepEqual([...delAttrs.keys()].sort(), [
      'domain',
      'httponly',
      'path',
      'samesite',
      'secure',
    ])
    // 4. Afterwards: anonymous, no next, app data kept, no remember cookie.
    const after = await send((auth) => ({
      user: auth.user,
      next: auth.nextUrl('/home'),
      theme: auth.session.get('theme' as never),
    }))
    assert.deepEqual(after.result, { user: null, next: '/home', theme: 'dark' })
    assert.equal(jar.values.has('rem'), false)
  })

  it('fires userLoggedOut with the user and leaves no session cookie for an empty session', async () => {
    const { send, jar, alice, m } = setup()
    const events: unknown[] = []
    m.on('userLoggedOut', ({ user }) => events.push(user))
    await send((auth) => auth.loginUser(alice))
    const { effects, auth } = await send((auth) => auth.logoutUser())
    assert.deepEqual(events, [alice])
    assert.equal(auth.user, null)
    const deletion = find(effects, SESSION)
    assert.ok(deletion !== undefined && maxAge(deletion) === 0)
    assert.equal(jar.values.has(SESSION), false)
  })

  it('an anonymous logout creates no session', async () => {
    const { send } = setup()
    const { effects } = await send((auth) => auth.logoutUser())
    assert.equal(find(effects, SESSION), undefined)
  })

  it('a permanent session outlives a logout that empties it; the next login is permanent', async () => {
    const { send, jar, alice } = setup()
    await send(async (auth) => {
      auth.session.permanent = true
      return auth.loginUser(alice)
    })
    const { effects } = await send((auth) => auth.logoutUser())
    const kept = find(effects, SESSION)
    assert.ok(kept !== undefined && (maxAge(kept) ?? 0) > 0, 'the permanent cookie is re-set')
    assert.equal((await send((auth) => auth.session.permanent)).result, true)
    const login = await send((auth) => auth.loginUser(alice))
    assert.ok((maxAge(find(login.effects, SESSION)) ?? 0) > 0, 'the login is permanent')
    assert.equal(jar.values.has(SESSION), true)
  })
})

describe('guards on exempt methods', () => {
  it('anonymous: checkLogin and checkFreshLogin answer 204 with no body, for every exempt method', async () => {
    const { send } = setup({ exemptMethods: ['OPTIONS', 'HEAD'], loginView: '/login' })
    for (const method of ['OPTIONS', 'HEAD']) {
      for (const check of ['checkLogin', 'checkFreshLogin'] as const) {
        const { result, effects } = await send((auth) => auth[check](), { method })
        assert.deepEqual(result, { type: 'respond', status: 204, body: undefined }, check)
        assert.equal(find(effects, SESSION), undefined, 'no flash, no session')
      }
    }
    const get = await send((auth) => auth.checkLogin(), { method: 'GET' })
    assert.equal((get.result as { status?: number } | null)?.status, 302)
  })

  it('logged in: exempt methods pass both guards, even when the login is not fresh', async () => {
    const { send, alice } = setup()
    await send((auth) => auth.loginUser(alice, { fresh: false }))
    assert.equal((await send((auth) => auth.checkLogin(), { method: 'OPTIONS' })).result, null)
    assert.equal((await send((auth) => auth.checkFreshLogin(), { method: 'OPTIONS' })).result, null)
    const get = await send((auth) => auth.checkFreshLogin(), { method: 'GET' })
    assert.equal((get.result as { status?: number } | null)?.status, 401, 'needsRefresh')
  })

  it('an inactive user is not a login: 204, not the handler', async () => {
    const { send, alice } = setup()
    await send((auth) => auth.loginUser(alice))
    alice.active = false
    const { result } = await send((auth) => auth.checkLogin(), { method: 'OPTIONS' })
    assert.equal((result as { status?: number } | null)?.status, 204)
  })

  it('exemptMethods: [] exempts nothing', async () => {
    const { send } = setup({ exemptMethods: [] })
    const { result } = await send((auth) => auth.checkLogin(), { method: 'OPTIONS' })
    assert.equal((result as { status?: number } | null)?.status, 401)
  })
})

describe('loading the user', () => {
  it('`user` throws ERR_USER_NOT_LOADED for an async loader until getUser() resolves', async () => {
    const { send, alice } = setup({ asyncLoader: true })
    await send((auth) => auth.loginUser(alice))
    await send(async (auth) => {
      assert.throws(() => auth.user, { code: 'ERR_USER_NOT_LOADED' })
      assert.equal(await auth.getUser(), alice)
      assert.equal(auth.user, alice)
    })
  })

  it('`user` works synchronously with a sync loader and a cookie session', async () => {
    const { send, alice, loads } = setup()
    await send((auth) => auth.loginUser(alice))
    loads.length = 0
    await send((auth) => {
      assert.equal(auth.user, alice)
      assert.equal(auth.user, alice)
    })
    assert.deepEqual(loads, ['alice'])
  })

  it('`user` is null synchronously for an anonymous request, even with an async loader', async () => {
    const { send } = setup({ asyncLoader: true })
    await send((auth) => assert.equal(auth.user, null))
  })

  it('getUser() calls the loader once, concurrent calls included', async () => {
    const { send, alice, loads } = setup({ asyncLoader: true })
    await send((auth) => auth.loginUser(alice))
    loads.length = 0
    await send(async (auth) => {
      const results = await Promise.all([auth.getUser(), auth.getUser(), auth.getUser()])
      assert.deepEqual(results, [alice, alice, alice])
      assert.equal(await auth.getUser(), alice)
      assert.equal(await auth.currentUser(), alice)
      assert.equal(await auth.isAuthenticated(), true)
      assert.equal(auth.user, alice)
    })
    assert.deepEqual(loads, ['alice'])
  })

  it('getUser() and `user` with a sync loader load once too', async () => {
    const { send, alice, loads } = setup()
    await send((auth) => auth.loginUser(alice))
    loads.length = 0
    await send(async (auth) => {
      void auth.user
      await Promise.all([auth.getUser(), auth.getUser()])
      void auth.user
    })
    assert.deepEqual(loads, ['alice'])
  })

  it('a request that never asks loads nobody', async () => {
    const { send, alice, loads } = setup()
    await send((auth) => auth.loginUser(alice))
    loads.length = 0
    await send(() => undefined)
    assert.deepEqual(loads, [])
  })

  it('ERR_NO_USER_LOADER when neither loader is set', async () => {
    const m = new LoginManager<User>({ secret: SECRET })
    assert.throws(() => m.assertReady(), { code: 'ERR_NO_USER_LOADER' })
    const auth = m.createAuth(adapter())
    await assert.rejects(async () => auth.getUser(), { code: 'ERR_NO_USER_LOADER' })
    assert.throws(
      () => m.createAuth(adapter()).user,
      (error: unknown) => {
        assert.ok(error instanceof LoginManagerError)
        assert.equal(error.code, 'ERR_NO_USER_LOADER')
        return true
      },
    )
  })

  it('getUser() reports errors as a rejected promise, never a synchronous throw', async () => {
    // getUser() is typed Promise<User | null>; callers using .then/.catch (not await) would miss
    // a synchronous throw.
    const m = new LoginManager<User>({ secret: SECRET })
    const auth = m.createAuth(adapter())
    let pending: Promise<User | null> | undefined
    assert.doesNotThrow(() => {
      pending = auth.getUser()
    })
    await assert.rejects(pending as Promise<User | null>, { code: 'ERR_NO_USER_LOADER' })

    const failing = setup({
      userLoader: () => {
        throw new Error('db down')
      },
    })
    await failing.send((a) => a.loginUser(failing.alice))
    const auth2 = failing.m.createAuth(adapter({ cookie: failing.jar.header }))
    let pending2: Promise<User | null> | undefined
    assert.doesNotThrow(() => {
      pending2 = auth2.getUser()
    })
    await assert.rejects(pending2 as Promise<User | null>, /db down/)
  })

  it('an id the loader no longer knows is dropped from the session', async () => {
    const { send, users, alice, rejections, jar } = setup()
    await send((auth) => auth.loginUser(alice))
    users.delete('alice')
    const { result, effects } = await send((auth) => auth.getUser())
    assert.equal(result, null)
    assert.deepEqual(rejections, ['session:unknown-user'])
    assert.ok(find(effects, SESSION))
    assert.equal(jar.values.has(SESSION), false)
  })

  it('a remember cookie restores the login: not fresh, remembered, new session issued', async () => {
    const { send, jar, alice, m } = setup()
    const restored: unknown[] = []
    m.on('userLoadedFromCookie', ({ user }) => restored.push(user))
    await send((auth) => auth.loginUser(alice, { remember: true }))
    jar.values.delete(SESSION)
    const { result, auth, effects } = await send((a) => a.getUser())
    assert.equal(result, alice)
    assert.equal(await auth.isFresh(), false)
    assert.equal(await auth.isRemembered(), true)
    assert.deepEqual(restored, [alice])
    assert.ok(find(effects, SESSION))
  })
  it("a remember-me restore for another user carries none of the dropped user's data", async () => {
    const { send, jar, users, alice, bob } = setup()
    const bobsBrowser = new Jar()
    await send((auth) => auth.loginUser(bob, { remember: true }), {}, 200, bobsBrowser)
    await send((auth) => auth.loginUser(alice))
    await send((auth) => {
      auth.session.set('cart' as never, ['alice'] as never)
      auth.flash('kept')
    })
    // alice's account is deleted; her browser also holds bob's remember cookie.
    users.delete('alice')
    jar.values.set(REMEMBER, bobsBrowser.values.get(REMEMBER) ?? '')
    const { result } = await send(async (auth) => ({
      user: await auth.getUser(),
      keys: auth.session.keys(),
      flashes: auth.consumeFlashes().map((f) => f.message),
    }))
    assert.deepEqual(result, { user: bob, keys: [], flashes: ['kept'] })
  })

  it('a second loginUser in the same request without remember issues no remember cookie', async () => {
    const { send, jar, alice, bob } = setup()
    const { effects } = await send(async (auth) => {
      await auth.loginUser(alice, { remember: true })
      await auth.loginUser(bob)
    })
    assert.equal(find(effects, REMEMBER), undefined)
    assert.equal(jar.values.has(REMEMBER), false)
    assert.equal((await send((auth) => auth.getUser())).result, bob)
  })

  it('a login restored from the remember cookie keeps what session.keepOnLogin says', async () => {
    for (const [keep, kept] of [
      ['all', ['cart', 'theme']],
      ['none', []],
      [['theme'], ['theme']],
    ] as [KeepOnLogin, string[]][]) {
      const { send, jar, alice } = setup({ session: { keepOnLogin: keep } })
      await send((auth) => auth.loginUser(alice, { remember: true }))
      // The login's session is gone (the browser was closed); a new anonymous one collects data.
      jar.values.delete(SESSION)
      await send(
        (auth) => {
          auth.session.set('cart' as never, [1] as never)
          auth.session.set('theme' as never, 'dark' as never)
          auth.flash('hi')
        },
        { path: '/public' },
      )
      const { result } = await send(async (auth) => {
        const user = await auth.getUser()
        return { user, keys: auth.session.keys().sort(), fresh: await auth.isFresh() }
      })
      assert.deepEqual(result, { user: alice, keys: kept, fresh: false }, JSON.stringify(keep))
      const next = await send((auth) => ({
        keys: auth.session.keys().sort(),
        flashes: auth.consumeFlashes().map((f) => f.message),
      }))
      assert.deepEqual(next.result, { keys: kept, flashes: ['hi'] }, JSON.stringify(keep))
    }
  })
})

describe('sessionVersion', () => {
  it('a changed version revokes the session and the remember cookie', async () => {
    const { send, jar, alice, rejections } = setup({ sessionVersion: (u) => u.version })
    await send((auth) => auth.loginUser(alice, { remember: true }))
    assert.ok((await send((auth) => auth.getUser(), {}, 200, jar.clone())).result === alice)
    const rememberOnly = new Jar()
    rememberOnly.values.set(REMEMBER, jar.values.get(REMEMBER) ?? '')

    alice.version = 2
    const { result, effects } = await send((auth) => auth.getUser())
    assert.equal(result, null)
    assert.deepEqual(rejections, ['session:revoked'])
    assert.equal(maxAge(find(effects, REMEMBER)), 0, 'the remember cookie is deleted')
    assert.equal(jar.values.has(REMEMBER), false)

    rejections.length = 0
    const viaRemember = await send((auth) => auth.getUser(), {}, 200, rememberOnly)
    assert.equal(viaRemember.result, null)
    assert.deepEqual(rejections, ['remember:revoked'])
    assert.equal(maxAge(find(viaRemember.effects, REMEMBER)), 0)
  })

  it('an unchanged version keeps working', async () => {
    const { send, alice, rejections } = setup({ sessionVersion: (u) => u.version })
    await send((auth) => auth.loginUser(alice, { remember: true }))
    assert.equal((await send((auth) => auth.getUser())).result, alice)
    assert.deepEqual(rejections, [])
  })
})

describe('loading the session user: each outcome calls the loader once and fires its events once', () => {
  for (const asyncLoader of [false, true]) {
    const kind = asyncLoader ? 'async' : 'sync'
    it(`${kind} loader: found, unknown, revoked; with a userAccessed listener too`, async () => {
      const { send, loads, users, alice, m, rejections } = setup({
        asyncLoader,
        sessionVersion: (u) => u.version,
      })
      await send((auth) => auth.loginUser(alice))
      loads.length = 0
      const found = await send((auth) => auth.getUser())
      assert.equal(found.result, alice)
      assert.deepEqual(loads, ['alice'])

      let accessed = 0
      const off = m.on('userAccessed', () => {
        accessed++
      })
      loads.length = 0
      assert.equal((await send((auth) => auth.getUser())).result, alice)
      assert.deepEqual([loads, accessed], [['alice'], 1])
      off()

      alice.version = 2
      loads.length = 0
      assert.equal((await send((auth) => auth.getUser())).result, null)
      assert.deepEqual([loads, rejections], [['alice'], ['session:revoked']])

      alice.version = 1
      await send((auth) => auth.loginUser(alice))
      users.delete('alice')
      loads.length = 0
      rejections.length = 0
      const gone = await send((auth) => auth.getUser())
      assert.equal(gone.result, null)
      assert.deepEqual([loads, rejections], [['alice'], ['session:unknown-user']])
      // The login was dropped from the session: the next request does not ask the loader again.
      loads.length = 0
      assert.equal((await send((auth) => auth.getUser())).result, null)
      assert.deepEqual(loads, [])
    })
  }

  it('strong protection that drops the login consults no loader, not even the request loader', async () => {
    let asked = 0
    const { send, alice, loads } = setup({
      sessionProtection: 'strong',
      requestLoader: () => {
        asked++
        return null
      },
    })
    await send((auth) => auth.loginUser(alice), { ua: 'Browser/1.0' })
    loads.length = 0
    asked = 0
    assert.equal((await send((auth) => auth.getUser(), { ua: 'Evil/6.6' })).result, null)
    assert.deepEqual([loads, asked], [[], 0])
  })
})

describe('session protection', () => {
  async function loggedIn(options: SetupOptions) {
    const ctx = setup(options)
    const protectedEvents: string[] = []
    ctx.m.on('sessionProtected', ({ mode }) => protectedEvents.push(mode))
    await ctx.send((auth) => auth.loginUser(ctx.alice, { remember: true }), { ua: 'Browser/1.0' })
    return { ...ctx, protectedEvents }
  }

  it('basic: another user-agent keeps the user but the login is no longer fresh', async () => {
    const { send, alice, protectedEvents } = await loggedIn({})
    const same = await send((auth) => auth.isFresh(), {
      ua: 'Browser/1.0',
    })
    assert.equal(same.result, true)
    const { result, auth } = await send((a) => a.getUser(), { ua: 'Evil/6.6' })
    assert.equal(result, alice)
    assert.equal(await auth.isFresh(), false)
    assert.deepEqual(protectedEvents, ['basic'])
  })

  it('strong: another user-agent drops the login and the remember cookie', async () => {
    const { send, jar, protectedEvents } = await loggedIn({ sessionProtection: 'strong' })
    const { result, effects } = await send((a) => a.getUser(), { ua: 'Evil/6.6' })
    assert.equal(result, null)
    assert.deepEqual(protectedEvents, ['strong'])
    assert.equal(maxAge(find(effects, REMEMBER)), 0)
    assert.equal(jar.values.has(REMEMBER), false)
    assert.equal((await send((a) => a.getUser(), { ua: 'Browser/1.0' })).result, null)
  })

  it('strong: another client address drops the login too', async () => {
    const { send, protectedEvents } = await loggedIn({ sessionProtection: 'strong' })
    assert.equal((await send((a) => a.getUser(), { ip: '203.0.113.9' })).result, null)
    assert.deepEqual(protectedEvents, ['strong'])
  })

  it('strong on a permanent session behaves like basic (Flask-Login)', async () => {
    const { send, alice, protectedEvents } = await loggedIn({ sessionProtection: 'strong' })
    await send((auth) => {
      auth.session.permanent = true
    })
    const { result, auth } = await send((a) => a.getUser(), { ua: 'Evil/6.6' })
    assert.equal(result, alice)
    assert.equal(await auth.isFresh(), false)
    assert.deepEqual(protectedEvents, ['strong'])
  })

  it('null: no protection', async () => {
    const { send, alice, protectedEvents } = await loggedIn({ sessionProtection: null })
    const { result, auth } = await send((a) => a.getUser(), { ua: 'Evil/6.6' })
    assert.equal(result, alice)
    assert.equal(await auth.isFresh(), true)
    assert.deepEqual(protectedEvents, [])
  })

  it('testing-helper sessions bind to the first client, then protect against a second', async () => {
    for (const mode of ['basic', 'strong'] as const) {
      const { m, send, jar, alice } = setup({ sessionProtection: mode })
      const events: string[] = []
      m.on('sessionProtected', ({ mode: seen }) => events.push(seen))
      const cookie = await testLogin(m, alice)
      const [name, value] = cookie.split('=', 2)
      jar.values.set(name ?? '', value ?? '')
      const first = await send((a) => a.getUser(), { ua: 'First/1.0' })
      assert.equal(first.result, alice, `${mode}: the first client is logged in`)
      assert.equal(await first.auth.isFresh(), true)
      assert.ok(find(first.effects, SESSION), `${mode}: the binding is saved`)
      assert.deepEqual(events, [])
      const again = await send((a) => a.getUser(), { ua: 'First/1.0' })
      assert.equal(again.result, alice)
      assert.deepEqual(events, [])
      const second = await send((a) => a.getUser(), { ua: 'Second/2.0' })
      assert.deepEqual(events, [mode])
      if (mode === 'strong') assert.equal(second.result, null)
      else {
        assert.equal(second.result, alice)
        assert.equal(await second.auth.isFresh(), false)
      }
    }
  })
})

describe('a remember-me restore while the session store fails', () => {
  /** A MemoryStore whose reads fail while `down`. */
  class FlakyStore extends MemoryStore {
    down = false
    override async get(key: string): Promise<Record<string, string> | null> {
      if (this.down) throw new Error('store down')
      return super.get(key)
    }
  }

  async function remembered(onStoreError: 'fail' | 'anonymous', extra: SetupOptions = {}) {
    const store = new FlakyStore()
    const ctx = setup({ ...extra, session: { store, onStoreError } })
    const errors: string[] = []
    ctx.m.on('storeError', ({ operation }) => errors.push(operation))
    const { effects } = await ctx.send((auth) => auth.loginUser(ctx.alice, { remember: true }))
    assert.equal(await effects?.pending, null)
    // The browser restarts (no session cookie) and the store goes down.
    ctx.jar.values.delete(SESSION)
    store.down = true
    /** One request: prepare, `fn`, commit with the status `fn`'s outcome gives (else 200). */
    async function request(fn: (auth: RequestAuth<User>) => unknown, req: Req = {}) {
      const auth = ctx.m.createAuth(adapter({ cookie: ctx.jar.header, ...req }))
      assert.equal(await auth.loadStoreSession(), null, 'no session cookie: nothing to load first')
      const result = await fn(auth)
      const status = isAuthOutcome(result) ? result.status : 200
      const effects = auth.commitResponse(status)
      return { result, effects, replaced: (await effects?.pending) ?? null }
    }
    return { ...ctx, store, errors, request }
  }

  it("'fail': a guard answers 503 instead of sending the visitor to the login page", async () => {
    const { request, errors, jar } = await remembered('fail', { loginView: '/login' })
    const { result, effects } = await request((auth) => auth.checkLogin())
    assert.ok(isAuthOutcome(result))
    assert.equal(result.status, 503)
    assert.deepEqual(effects?.cookies ?? [], [], 'no cookie is set or deleted')
    assert.deepEqual(errors, ['remember'])
    assert.ok(jar.values.has(REMEMBER), 'the remember cookie is kept for later')
    const fresh = await request((auth) => auth.checkFreshLogin())
    assert.equal((fresh.result as { status?: number }).status, 503)
  })

  it("'fail': a handler that only reads the user gets null, and the response is replaced by a 503", async () => {
    const { request } = await remembered('fail')
    const { result, replaced, effects } = await request((auth) => auth.getUser())
    assert.equal(result, null)
    assert.equal(replaced?.status, 503)
    assert.deepEqual(effects?.cookies ?? [], [])
  })

  it("'fail': an exempt method without a login gets the 503 too; a user found by the request loader is served", async () => {
    const { request, alice } = await remembered('fail', { requestLoader: () => null })
    // The guard never lets a request through without a user (issue 10); the restore failed, so
    // the answer is the 503, not the guard's 204 for an anonymous preflight.
    const preflight = await request((auth) => auth.checkLogin(), { method: 'OPTIONS' })
    assert.equal((preflight.result as { status?: number } | null)?.status, 503)
    assert.deepEqual(preflight.effects?.cookies ?? [], [], 'no cookie is set or deleted')
    const api = await remembered('fail', { requestLoader: () => alice })
    const { result, replaced } = await api.request((auth) => auth.checkLogin())
    assert.equal(result, null)
    assert.equal(replaced, null)
  })

  it("'anonymous': the request goes on as anonymous, without a 503", async () => {
    const { request, errors } = await remembered('anonymous', { loginView: '/login' })
    const guarded = await request((auth) => auth.checkLogin())
    assert.equal((guarded.result as { status?: number }).status, 302)
    assert.equal(guarded.replaced, null)
    const read = await request((auth) => auth.getUser())
    assert.equal(read.result, null)
    assert.equal(read.replaced, null)
    assert.deepEqual(errors, ['remember', 'remember'])
  })
})

describe('getUser() with a session store nobody loaded first', () => {
  class FlakyStore extends MemoryStore {
    down = false
    override async get(key: string): Promise<Record<string, string> | null> {
      if (this.down) throw new Error('store down')
      return super.get(key)
    }
  }

  async function loggedIn(onStoreError: 'fail' | 'anonymous') {
    const store = new FlakyStore()
    const ctx = setup({ session: { store, onStoreError } })
    const errors: string[] = []
    ctx.m.on('storeError', ({ operation }) => errors.push(operation))
    const { effects } = await ctx.send((auth) => auth.loginUser(ctx.alice))
    assert.equal(await effects?.pending, null)
    return { ...ctx, store, errors }
  }

  it('loads the session itself (no prepare, no guard): the user, freshness, flashes', async () => {
    const { m, jar, alice } = await loggedIn('fail')
    const auth = m.createAuth(adapter({ cookie: jar.header }))
    assert.equal(await auth.getUser(), alice)
    assert.equal(await auth.isFresh(), true)
    assert.equal(auth.user, alice, 'the sync getter works once loaded')
  })

  it("a store failure: anonymous, storeError, and a 503 in 'fail' mode", async () => {
    const { m, jar, store, errors } = await loggedIn('fail')
    store.down = true
    const auth = m.createAuth(adapter({ cookie: jar.header }))
    assert.equal(await auth.getUser(), null)
    assert.deepEqual(errors, ['load'])
    const effects = auth.commitResponse(200)
    assert.equal((await effects?.pending)?.status, 503)
    assert.deepEqual(effects?.cookies ?? [], [], 'the session cookie is kept for later')
  })

  it("a store failure in 'anonymous' mode: anonymous, no 503", async () => {
    const { m, jar, store } = await loggedIn('anonymous')
    store.down = true
    const auth = m.createAuth(adapter({ cookie: jar.header }))
    assert.equal(await auth.getUser(), null)
    const effects = auth.commitResponse(200)
    assert.equal((await effects?.pending) ?? null, null)
    assert.deepEqual(effects?.cookies ?? [], [])
  })
})
