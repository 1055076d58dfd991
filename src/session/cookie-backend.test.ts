import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { RequestAuth, ResponseEffects } from '../core/auth.ts'
import { LoginManager, type LoginManagerOptions } from '../core/login-manager.ts'
import { UserMixin } from '../core/mixins.ts'
import { KeyRing } from '../crypto/keys.ts'
import { seal } from '../crypto/seal.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { AdapterRequest } from '../shared/types.ts'
import { CookieSessionBackend, MAX_COOKIE_BYTES } from './cookie-backend.ts'
import { Session } from './session.ts'

const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'
const NEW = 'Yp4$uQ7@oK1#wV5!lM9&sA3*gE8^iH2%'
const FOREIGN = 'Xo5%tP6!nJ0@vU4#kL8$rZ2^fD7&gG3*'
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'
const T0 = Date.UTC(2030, 0, 1, 12) // ms

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

interface Req {
  cookie?: string | undefined
  ua?: string
}

function adapter(req: Req = {}): AdapterRequest {
  const headers: Record<string, string | undefined> = {
    'user-agent': req.ua ?? 'Browser/1.0',
    cookie: req.cookie,
  }
  return {
    method: 'GET',
    url: '/',
    header: (name) => headers[name],
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }
}

/** A browser's cookie jar, enough for these tests: name → value, deletions honoured. */
class Jar {
  readonly values = new Map<string, string>()
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
}

function setup(
  options: Partial<LoginManagerOptions<User>> = {},
  secret: string | string[] = SECRET,
) {
  const clock = { t: T0 }
  const m = new LoginManager<User>({
    secret,
    now: () => clock.t,
    userLoader: (id) => (id === 'alice' || id === 'bob' ? new User(id) : null),
    ...options,
  })
  const rejections: string[] = []
  m.on('cookieRejected', ({ cookie, reason }) => rejections.push(`${cookie}:${reason}`))
  const jar = new Jar()
  async function send<T>(
    fn: (auth: RequestAuth<User>) => T | Promise<T>,
    req: Req = {},
    status = 200,
  ) {
    const auth = m.createAuth(adapter({ cookie: jar.header, ...req }))
    const result = await fn(auth)
    const effects = auth.commitResponse(status)
    jar.apply(effects)
    return { auth, result, effects }
  }
  return { clock, m, rejections, jar, send }
}

/** Logs alice in on a fresh manager and returns the session cookie value. */
async function aliceCookie(secret: string | string[] = SECRET, options = {}): Promise<string> {
  const { jar, send, m } = setup(options, secret)
  await send((auth) => auth.loginUser(new User('alice')))
  const value = jar.values.get(m.options.session.name)
  assert.ok(value !== undefined)
  return value
}

function isDeletion(header: string, name: string): boolean {
  return header.startsWith(`${name}=;`) && /Max-Age=0/.test(header)
}

/** Sends `value` as the session cookie; expects an anonymous request, one rejection, a deletion. */
async function expectRejected(
  value: string,
  reasons: string[],
  options: Partial<LoginManagerOptions<User>> = {},
): Promise<string> {
  const { rejections, send } = setup(options)
  const { result, effects } = await send((auth) => auth.getUser(), {
    cookie: `${SESSION}=${value}`,
  })
  assert.equal(result, null, 'the request is anonymous')
  assert.equal(rejections.length, 1, `one rejection: ${rejections}`)
  const [cookie, reason] = (rejections[0] ?? '').split(':')
  assert.equal(cookie, 'session')
  assert.ok(reasons.includes(reason ?? ''), `reason ${reason} not in ${reasons}`)
  assert.ok(
    effects?.cookies.some((c) => isDeletion(c, SESSION)),
    'the rejected cookie is deleted in the response',
  )
  return reason ?? ''
}

function flip(value: string, index: number): string {
  const c = value[index] === 'A' ? 'B' : 'A'
  return value.slice(0, index) + c + value.slice(index + 1)
}

describe('sealed cookie session: accepted values', () => {
  it('a value from login opens on the next request', async () => {
    const { rejections, send } = setup()
    await send((auth) => auth.loginUser(new User('alice')))
    const { result } = await send((auth) => auth.getUser())
    assert.ok(result instanceof User)
    assert.equal(result.id, 'alice')
    assert.deepEqual(rejections, [])
  })

  it('the value is a v1 seal with no plaintext in it', async () => {
    const { jar, send } = setup()
    await send(async (auth) => {
      auth.session.set('secretNote' as never, 'hunter2' as never)
      await auth.loginUser(new User('alice'))
    })
    const value = jar.values.get(SESSION) ?? ''
    assert.match(value, /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/)
    const decoded = Buffer.from(value.split('.')[2] ?? '', 'base64url').toString('latin1')
    assert.ok(!decoded.includes('hunter2') && !decoded.includes('alice'))
  })
})

describe('sealed cookie session: rejected values (anonymous, cookieRejected, deleted)', () => {
  it('tampered at several positions', async () => {
    const value = await aliceCookie()
    const positions = [
      0,
      1,
      2,
      3,
      7,
      10,
      11,
      12,
      20,
      Math.floor(value.length / 2),
      value.length - 2,
    ]
    positions.push(value.length - 1)
    for (const i of positions) {
      await expectRejected(flip(value, i), ['malformed', 'unknown-key', 'decrypt'])
    }
  })

  it('truncated', async () => {
    const value = await aliceCookie()
    for (const n of [1, 2, 3, 4, 16, 40, value.length - 12]) {
      await expectRejected(value.slice(0, value.length - n), ['malformed', 'decrypt'])
    }
    await expectRejected(`${value}A`, ['malformed', 'decrypt'])
  })

  it("another manager's secret (wrong key)", async () => {
    const value = await aliceCookie(FOREIGN)
    assert.equal(await expectRejected(value, ['unknown-key']), 'unknown-key')
  })

  it('a value sealed for another cookie name with the same secret (audience)', async () => {
    const value = await aliceCookie(SECRET, { session: { name: 'sid', secure: false } })
    await expectRejected(value, ['decrypt'])
  })

  it('a remember cookie value used as the session cookie (purpose)', async () => {
    const { jar, send } = setup()
    await send((auth) => auth.loginUser(new User('alice'), { remember: true }))
    const remember = jar.values.get(REMEMBER)
    assert.ok(remember !== undefined)
    await expectRejected(remember, ['unknown-key', 'decrypt'])
  })

  it('foreign values: random base64url, a Flask session, v2.xxx and friends', async () => {
    const values = [
      randomBytes(48).toString('base64url'),
      randomBytes(300).toString('base64url'),
      'eyJfZnJlc2giOmZhbHNlLCJfdXNlcl9pZCI6IjEifQ.Z5x2ag.qX1cK9v8yF7mJb3Q2kz3cN0pLk4',
      '.eJyrVopPy0kszkgtVrKKrlZKLC3JyC9SslJKTszJUdJRSs7PS8tMBwkWJ-YVA_kAhkoN5w.Z5x2ag.abc',
      'v2.xxx',
      `v2.${'A'.repeat(8)}.${'A'.repeat(60)}`,
      `v0.${'A'.repeat(8)}.${'A'.repeat(60)}`,
      `v1.${'A'.repeat(8)}.${'A'.repeat(60)}`,
      'v1.',
      'none',
      's%3Aabc.def',
      '{"c":1,"t":1,"a":{"u":"alice"}}',
    ]
    for (const value of values) {
      await expectRejected(value, ['malformed', 'unknown-key', 'decrypt'])
    }
  })

  it('an authentic seal whose payload is not a session is malformed', async () => {
    const keys = new KeyRing([SECRET]).forPurpose('session')
    for (const body of ['not json', '[]', '{"c":1}', '{"c":1,"t":1,"a":{"u":""}}']) {
      assert.equal(await expectRejected(seal(keys, body, SESSION), ['malformed']), 'malformed')
    }
  })

  it('expired by the idle timeout (injected clock), whatever the cookie says', async () => {
    const { clock, rejections, send } = setup()
    await send((auth) => auth.loginUser(new User('alice')))
    clock.t += 3600_000
    const ok = await send((auth) => auth.getUser())
    assert.ok(ok.result instanceof User, 'exactly the idle timeout is still valid')

    const late = setup()
    await late.send((auth) => auth.loginUser(new User('alice')))
    late.clock.t += 3601_000
    const { result, effects } = await late.send((auth) => auth.getUser())
    assert.equal(result, null)
    assert.deepEqual(late.rejections, ['session:idle-timeout'])
    assert.ok(effects?.cookies.some((c) => isDeletion(c, SESSION)))
    assert.deepEqual(rejections, [])
  })

  it('expired by the absolute timeout even when kept active', async () => {
    const { clock, rejections, send, jar } = setup({
      session: { idleTimeout: 100, absoluteTimeout: 250, touchInterval: 10 },
    })
    await send((auth) => auth.loginUser(new User('alice')))
    for (const at of [90, 180, 240]) {
      clock.t = T0 + at * 1000
      const { result, effects } = await send((auth) => auth.getUser())
      assert.ok(result instanceof User, `still logged in at +${at}s`)
      assert.equal(effects?.cookies.length, 1, `touched (re-sealed) at +${at}s`)
    }
    clock.t = T0 + 260_000
    const { result, effects } = await send((auth) => auth.getUser())
    assert.equal(result, null)
    assert.deepEqual(rejections, ['session:absolute-timeout'])
    assert.ok(effects?.cookies.some((c) => isDeletion(c, SESSION)))
    assert.equal(jar.values.has(SESSION), false)
  })

  it('future-dated: the clock moved back more than 60 s', async () => {
    const a = setup()
    await a.send((auth) => auth.loginUser(new User('alice')))
    a.clock.t = T0 - 60_000
    assert.ok(
      (await a.send((auth) => auth.getUser())).result instanceof User,
      '60 s skew is allowed',
    )

    const b = setup()
    await b.send((auth) => auth.loginUser(new User('alice')))
    b.clock.t = T0 - 61_000
    const { result, effects } = await b.send((auth) => auth.getUser())
    assert.equal(result, null)
    assert.deepEqual(b.rejections, ['session:future-dated'])
    assert.ok(effects?.cookies.some((c) => isDeletion(c, SESSION)))
  })

  it('oversized incoming cookie (> 4096 bytes) is refused before any crypto', async () => {
    await expectRejected('A'.repeat(MAX_COOKIE_BYTES), ['oversized'])
    // An authentic, well-formed seal is still refused when too big: the size check comes first.
    const keys = new KeyRing([SECRET]).forPurpose('session')
    const big = seal(
      keys,
      JSON.stringify({ c: T0 / 1000, t: T0 / 1000, a: { u: 'alice' }, d: { x: 'x'.repeat(4000) } }),
      SESSION,
    )
    assert.ok(SESSION.length + 1 + big.length > MAX_COOKIE_BYTES)
    assert.equal(await expectRejected(big, ['oversized']), 'oversized')
  })

  it('a rejected cookie never throws, and the request can start a new session', async () => {
    const { rejections, send, jar } = setup()
    const { effects } = await send(
      (auth) => {
        assert.equal(auth.user, null)
        auth.session.set('theme' as never, 'dark' as never)
      },
      { cookie: `${SESSION}=garbage` },
    )
    assert.deepEqual(rejections, ['session:malformed'])
    assert.equal(effects?.cookies.length, 1)
    assert.match(effects?.cookies[0] ?? '', /^__Host-session=v1\./)
    assert.ok(jar.values.has(SESSION))
  })
})

describe('sealed cookie session: key rotation', () => {
  it('a cookie from the old secret is accepted and re-sealed with the new one', async () => {
    const old = await aliceCookie(SECRET)
    const rotating = setup({}, [NEW, SECRET])
    const { result, effects } = await rotating.send((auth) => auth.getUser(), {
      cookie: `${SESSION}=${old}`,
    })
    assert.ok(result instanceof User)
    assert.deepEqual(rotating.rejections, [])
    assert.equal(effects?.cookies.length, 1, 'the session is re-sealed although nothing changed')
    const resealed = rotating.jar.values.get(SESSION)
    assert.ok(resealed !== undefined && resealed !== old)

    const newOnly = setup({}, NEW)
    const reopened = await newOnly.send((auth) => auth.getUser(), {
      cookie: `${SESSION}=${resealed}`,
    })
    assert.ok(reopened.result instanceof User, 'the new cookie opens with only the new secret')
    assert.deepEqual(newOnly.rejections, [])
    // The old cookie is refused once the old secret is removed.
    const stale = await newOnly.send((auth) => auth.getUser(), { cookie: `${SESSION}=${old}` })
    assert.equal(stale.result, null)
    assert.deepEqual(newOnly.rejections, ['session:unknown-key'])
  })

  it('a cookie from the current secret is not re-sealed', async () => {
    const value = await aliceCookie(NEW)
    const rotating = setup({}, [NEW, SECRET])
    const { effects } = await rotating.send((auth) => auth.getUser(), {
      cookie: `${SESSION}=${value}`,
    })
    assert.deepEqual(effects?.cookies, [])
  })

  it('the backend reports rotated on every load of an old-key value (not only the first)', () => {
    const oldBackend = new CookieSessionBackend(
      new KeyRing([SECRET]).forPurpose('session'),
      SESSION,
    )
    const session = new Session({ createdAt: 1, lastActive: 1, isNew: true })
    session.set('a', 1)
    const value = oldBackend.save(session, 1).value
    const backend = new CookieSessionBackend(
      new KeyRing([NEW, SECRET]).forPurpose('session'),
      SESSION,
    )
    for (let i = 0; i < 3; i++) {
      const loaded = backend.load(value)
      assert.ok(loaded.ok)
      assert.equal(loaded.rotated, true, `load #${i + 1}`)
    }
    const current = backend.save(session, 1).value
    for (let i = 0; i < 2; i++) {
      const loaded = backend.load(current)
      assert.ok(loaded.ok)
      assert.equal(loaded.rotated, false)
    }
  })
})

describe('sealed cookie session: saving', () => {
  it('throws ERR_COOKIE_TOO_LARGE naming the largest keys, largest first', async () => {
    const { send } = setup()
    await assert.rejects(
      send((auth) => {
        auth.session.set('small' as never, 1 as never)
        auth.session.set('medium' as never, 'm'.repeat(300) as never)
        auth.session.set('big' as never, 'b'.repeat(5000) as never)
      }),
      (error: unknown) => {
        assert.ok(error instanceof LoginManagerError)
        assert.equal(error.code, 'ERR_COOKIE_TOO_LARGE')
        assert.match(error.message, /'big' \(\d+ bytes\), 'medium' \(\d+ bytes\)/)
        return true
      },
    )
  })

  it('the backend save throws the same error directly', () => {
    const backend = new CookieSessionBackend(new KeyRing([SECRET]).forPurpose('session'), SESSION)
    const session = new Session({ createdAt: 1, lastActive: 1, isNew: true })
    session.set('payload', randomBytes(3500).toString('base64'))
    assert.throws(() => backend.save(session, 1), { code: 'ERR_COOKIE_TOO_LARGE' })
  })

  it('a session just under the limit is saved and opens again', () => {
    const backend = new CookieSessionBackend(new KeyRing([SECRET]).forPurpose('session'), SESSION)
    const session = new Session({ createdAt: 1, lastActive: 1, isNew: true })
    session.set('payload', 'p'.repeat(2900))
    const { value } = backend.save(session, 1)
    assert.ok(SESSION.length + 1 + value.length <= MAX_COOKIE_BYTES)
    const loaded = backend.load(value)
    assert.ok(loaded.ok)
    assert.equal(JSON.parse(loaded.init.dataJson ?? '{}').payload, 'p'.repeat(2900))
  })
})
