import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RequestAuth } from '../core/auth.ts'
import { LoginManager, type LoginManagerOptions } from '../core/login-manager.ts'
import { UserMixin } from '../core/mixins.ts'
import type { AdapterRequest } from '../shared/types.ts'
import { loginCookies, testLogin } from './index.ts'

const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'
const T0 = Date.UTC(2030, 0, 1, 12)

class User extends UserMixin {
  constructor(
    readonly id: string,
    public version = 1,
  ) {
    super()
  }
}

function adapter(cookie: string | undefined, ua = 'Client/1.0'): AdapterRequest {
  return {
    method: 'GET',
    url: '/',
    header: (name) => (name === 'cookie' ? cookie : name === 'user-agent' ? ua : undefined),
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }
}

function setup(options: Partial<LoginManagerOptions<User>> = {}) {
  const alice = new User('alice')
  const m = new LoginManager<User>({
    secret: SECRET,
    now: () => T0,
    userLoader: (id) => (id === 'alice' ? alice : null),
    ...options,
  })
  const rejections: string[] = []
  m.on('cookieRejected', ({ cookie, reason }) => rejections.push(`${cookie}:${reason}`))
  return { m, alice, rejections }
}

/** One request: runs `fn` on a fresh auth object with the given Cookie header. */
async function request<T>(
  m: LoginManager<User>,
  cookie: string | undefined,
  fn: (auth: RequestAuth<User>) => Promise<T>,
  ua?: string,
) {
  const auth = m.createAuth(adapter(cookie, ua))
  const result = await fn(auth)
  return { result, effects: auth.commitResponse(200) }
}

/** Applies Set-Cookie values to a Cookie header, as a browser would. */
function nextCookieHeader(cookie: string, setCookies: readonly string[]): string {
  const jar = new Map(
    cookie.split('; ').map((pair) => {
      const eq = pair.indexOf('=')
      return [pair.slice(0, eq), pair.slice(eq + 1)] as const
    }),
  )
  for (const header of setCookies) {
    const pair = header.split(';', 1)[0] ?? ''
    const eq = pair.indexOf('=')
    const value = pair.slice(eq + 1)
    if (value === '') jar.delete(pair.slice(0, eq))
    else jar.set(pair.slice(0, eq), value)
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join('; ')
}

describe('testLogin', () => {
  it('returns a Cookie header the manager accepts as a fresh login', async () => {
    const { m, alice, rejections } = setup()
    const cookie = await testLogin(m, alice)
    assert.match(cookie, /^__Host-session=v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    const { result } = await request(m, cookie, async (auth) => ({
      user: await auth.getUser(),
      fresh: await auth.isFresh(),
      remembered: await auth.isRemembered(),
      authenticated: await auth.isAuthenticated(),
    }))
    assert.deepEqual(result, { user: alice, fresh: true, remembered: false, authenticated: true })
    assert.deepEqual(rejections, [])
  })

  it('fresh: false gives a logged-in but not fresh session', async () => {
    const { m, alice } = setup()
    const cookie = await testLogin(m, alice, { fresh: false })
    const { result } = await request(m, cookie, async (auth) => ({
      user: await auth.getUser(),
      fresh: await auth.isFresh(),
      guard: await auth.checkFreshLogin(),
    }))
    assert.equal(result.user, alice)
    assert.equal(result.fresh, false)
    assert.ok(result.guard !== null, 'freshLoginRequired refuses it')
  })

  it('remember: true adds a remember cookie that logs the user in on its own', async () => {
    const { m, alice } = setup()
    const cookie = await testLogin(m, alice, { remember: true })
    const names = cookie.split('; ').map((pair) => pair.split('=')[0])
    assert.deepEqual(names, ['__Host-session', '__Host-remember'])
    const both = await request(m, cookie, (auth) => auth.isRemembered())
    assert.equal(both.result, true)
    const rememberOnly = cookie.split('; ')[1]
    const { result } = await request(m, rememberOnly, async (auth) => ({
      user: await auth.getUser(),
      fresh: await auth.isFresh(),
    }))
    assert.deepEqual(result, { user: alice, fresh: false })
  })

  it('works with the configured cookie names', async () => {
    const { m, alice } = setup({
      session: { name: 'sid', secure: false },
      remember: { name: 'rid', secure: false },
    })
    const cookie = await testLogin(m, alice, { remember: true })
    assert.match(cookie, /^sid=v1\.[^;]+; rid=v1\./)
    assert.equal((await request(m, cookie, (auth) => auth.getUser())).result, alice)
  })

  it("works with sessionProtection 'strong', whatever the client, and then protects it", async () => {
    const { m, alice } = setup({ sessionProtection: 'strong' })
    const cookie = await testLogin(m, alice)
    for (const ua of ['curl/8', 'supertest', 'Mozilla/5.0']) {
      const { result } = await request(m, cookie, (auth) => auth.getUser(), ua)
      assert.equal(result, alice, `the unbound session logs in ${ua}`)
    }
    // A client that keeps the cookies it is given is bound after its first request.
    const first = await request(m, cookie, (auth) => auth.getUser(), 'Mozilla/5.0')
    const bound = nextCookieHeader(cookie, first.effects?.cookies ?? [])
    assert.notEqual(bound, cookie)
    assert.equal((await request(m, bound, (a) => a.getUser(), 'Mozilla/5.0')).result, alice)
    assert.equal((await request(m, bound, (a) => a.getUser(), 'Other/1.0')).result, null)
  })

  it('carries the sessionVersion, so a version bump logs the test session out', async () => {
    const { m, alice, rejections } = setup({ sessionVersion: (u) => u.version })
    const cookie = await testLogin(m, alice, { remember: true })
    assert.equal((await request(m, cookie, (auth) => auth.getUser())).result, alice)
    alice.version = 2
    assert.equal((await request(m, cookie, (auth) => auth.getUser())).result, null)
    assert.deepEqual(rejections, ['session:revoked'])
  })

  it('loginCookies returns the same cookies as name/value pairs', async () => {
    const { m, alice } = setup()
    const cookies = await loginCookies(m, alice, { remember: true })
    assert.deepEqual(
      cookies.map((c) => c.name),
      ['__Host-session', '__Host-remember'],
    )
    const header = cookies.map((c) => `${c.name}=${c.value}`).join('; ')
    assert.equal((await request(m, header, (auth) => auth.getUser())).result, alice)
  })

  it('refuses a user without a usable id', async () => {
    const { m } = setup()
    await assert.rejects(testLogin(m, new User('')), { code: 'ERR_USER_ID' })
  })
})
