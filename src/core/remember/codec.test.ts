import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeCookie } from '../../crypto/flask-cookie.ts'
import { KeyRing } from '../../crypto/keys.ts'
import { seal } from '../../crypto/seal.ts'
import { CookieSessionBackend } from '../../session/cookie-backend.ts'
import { Session } from '../../session/session.ts'
import type { AdapterRequest } from '../../shared/types.ts'
import { LoginManager } from '../login-manager.ts'
import { rememberCodecFor } from './choose.ts'
import type { RememberDecoded } from './codec.ts'

const OLD = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'
const NEW = 'Yp4$uQ7@oK1#wV5!lM9&sA3*gE8^iH2%'
const NAME = '__Host-remember'
const NOW = 1_900_000_000 // seconds

// Flask-Login test vectors (also in src/crypto/flask-cookie.test.ts).
const HEX_1 =
  '0e9e6e9855fbe6df7906ec4737578a1d491b38d3fd5246c1561016e189d6516043286501ca43257c938e60aad77acec5ce916b94ca9d00c0bb6f9883ae4b82ae'
const HEX_SATO =
  '19eb6417c22e6e4ba7d9ca586d4778e3436a98c174be84347090be382a1ce3b4730f292c921228e1dbccf4a638ed10f9ec0fe31a979168fa2d49c0275705a74c'

function codec(secrets: string[], format: 'sealed' | 'flask' = 'sealed', name = NAME) {
  return rememberCodecFor(format, new KeyRing(secrets).forPurpose('remember'), secrets, name)
}

function rejected(decoded: RememberDecoded): string {
  assert.equal(decoded.ok, false, 'expected a rejection')
  return decoded.ok ? '' : decoded.reason
}

function flip(value: string, index: number): string {
  const c = value[index] === 'A' ? 'B' : 'A'
  return value.slice(0, index) + c + value.slice(index + 1)
}

describe('RememberCodec, sealed format', () => {
  it('round-trips string and number ids with duration and version', () => {
    const c = codec([NEW])
    // Each token also carries its own id, for the revocation list.
    const { id: idA, ...a } = c.decode(c.encode('alice', 3600, 7, NOW), NOW) as { id?: string }
    assert.deepEqual(a, { ok: true, userId: 'alice', version: 7, duration: 3600, rotated: false })
    const { id: idB, ...b } = c.decode(c.encode(42, 60, 'v2', NOW), NOW + 10) as { id?: string }
    assert.deepEqual(b, { ok: true, userId: 42, version: 'v2', duration: 60, rotated: false })
    assert.match(idA ?? '', /^[A-Za-z0-9_-]{22}$/)
    assert.match(idB ?? '', /^[A-Za-z0-9_-]{22}$/)
    assert.notEqual(idA, idB)
    const d = c.decode(c.encode('x', 60, undefined, NOW), NOW)
    assert.ok(d.ok)
    assert.equal(d.version, undefined)
  })

  it('is a cookie-safe v1 seal that does not show the id', () => {
    const value = codec([NEW]).encode('alice@example.com', 3600, undefined, NOW)
    assert.match(value, /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/)
    assert.ok(!value.includes('alice'))
  })

  it('enforces the expiry on the server', () => {
    const c = codec([NEW])
    const value = c.encode('alice', 60, undefined, NOW)
    assert.ok(c.decode(value, NOW + 59).ok)
    assert.equal(rejected(c.decode(value, NOW + 60)), 'expired')
    assert.equal(rejected(c.decode(value, NOW + 86400 * 365)), 'expired')
  })

  it('rejects a tampered value at every kind of position', () => {
    const c = codec([NEW])
    const value = c.encode('alice', 3600, undefined, NOW)
    for (const i of [0, 1, 2, 3, 10, 11, 12, 20, Math.floor(value.length / 2), value.length - 1]) {
      const reason = rejected(c.decode(flip(value, i), NOW))
      assert.ok(['malformed', 'unknown-key', 'decrypt'].includes(reason), `at ${i}: ${reason}`)
    }
  })

  it('rejects a truncated value', () => {
    const c = codec([NEW])
    const value = c.encode('alice', 3600, undefined, NOW)
    for (const n of [1, 2, 4, 16, value.length - 12, value.length - 3]) {
      rejected(c.decode(value.slice(0, value.length - n), NOW))
    }
    rejected(c.decode('', NOW))
  })

  it("rejects another secret's token as unknown-key", () => {
    const value = codec([OLD]).encode('alice', 3600, undefined, NOW)
    assert.equal(rejected(codec([NEW]).decode(value, NOW)), 'unknown-key')
  })

  it('rejects a session cookie value used as a remember cookie (purpose separation)', () => {
    const keys = new KeyRing([NEW])
    const backend = new CookieSessionBackend(keys.forPurpose('session'), NAME)
    const session = new Session({ createdAt: NOW, lastActive: NOW, isNew: true })
    session._setAuth({ userId: 'alice' })
    // Same secret and even the same cookie name: only the purpose differs.
    const sessionValue = backend.save(session, NOW).value
    rejected(codec([NEW]).decode(sessionValue, NOW))
  })

  it('rejects a token sealed with the remember key for another cookie name', () => {
    const value = codec([NEW], 'sealed', 'other-remember').encode('alice', 3600, undefined, NOW)
    assert.equal(rejected(codec([NEW]).decode(value, NOW)), 'decrypt')
  })

  it('rejects a well-sealed body of the wrong shape as malformed', () => {
    const keys = new KeyRing([NEW]).forPurpose('remember')
    const c = codec([NEW])
    for (const body of [
      'not json',
      'null',
      '"alice"',
      JSON.stringify({ e: NOW + 60 }),
      JSON.stringify({ u: '', e: NOW + 60 }),
      JSON.stringify({ u: { id: 1 }, e: NOW + 60 }),
      JSON.stringify({ u: 'alice' }),
      JSON.stringify({ u: 'alice', e: String(NOW + 60) }),
    ]) {
      assert.equal(rejected(c.decode(seal(keys, body, NAME), NOW)), 'malformed', body)
    }
  })

  it('rotation: [new, old] opens a token from [old] and reports rotated', () => {
    const value = codec([OLD]).encode('alice', 3600, 3, NOW)
    const { id, ...decoded } = codec([NEW, OLD]).decode(value, NOW) as { id?: string }
    assert.match(id ?? '', /^[A-Za-z0-9_-]{22}$/)
    assert.deepEqual(decoded, {
      ok: true,
      userId: 'alice',
      version: 3,
      duration: 3600,
      rotated: true,
    })
    // And tokens issued by [new, old] are sealed with the new secret.
    const fresh = codec([NEW, OLD]).encode('alice', 3600, 3, NOW)
    assert.ok(codec([NEW]).decode(fresh, NOW).ok)
    // Old key removed: rejected.
    assert.equal(rejected(codec([NEW]).decode(value, NOW)), 'unknown-key')
  })

  it('refuses an oversized value before any crypto', () => {
    const c = codec([NEW])
    assert.equal(rejected(c.decode(`v1.${'A'.repeat(5000)}`, NOW)), 'oversized')
    // Even a genuinely sealed token is refused when too large for a browser to have sent it.
    const keys = new KeyRing([NEW]).forPurpose('remember')
    const big = seal(keys, JSON.stringify({ u: 'x'.repeat(4000), e: NOW + 60 }), NAME)
    assert.ok(big.length + NAME.length + 1 > 4096)
    assert.equal(rejected(c.decode(big, NOW)), 'oversized')
  })

  it('never throws on garbage', () => {
    const c = codec([NEW])
    for (const value of [
      '',
      '|',
      'v1.',
      'v1..',
      'v2.AAAAAAAA.AAAA',
      '%',
      '\u0000',
      '💥'.repeat(10),
    ]) {
      assert.doesNotThrow(() => c.decode(value, NOW))
      assert.equal(c.decode(value, NOW).ok, false)
    }
  })
})

describe('RememberCodec, flask format', () => {
  it("reproduces Flask-Login's encode_cookie value", () => {
    const c = codec(['deterministic'], 'flask')
    assert.equal(c.encode('1', 3600, undefined, NOW), `1|${HEX_1}`)
    assert.equal(c.encode('1', 3600, undefined, NOW), encodeCookie('1', 'deterministic'))
    assert.equal(c.encode(1, 3600, undefined, NOW), `1|${HEX_1}`, 'a number id is signed as text')
    const m = codec([NEW], 'flask')
    assert.equal(m.encode('user-42', 60, undefined, NOW), encodeCookie('user-42', NEW))
  })

  it("decodes Flask-Login's value", () => {
    const decoded = codec(['deterministic'], 'flask').decode(`1|${HEX_1}`, NOW)
    assert.deepEqual(decoded, {
      ok: true,
      userId: '1',
      version: undefined,
      duration: undefined,
      rotated: false,
    })
  })

  it("percent-encodes non-ASCII ids ('佐藤') and round-trips them", () => {
    const c = codec(['deterministic'], 'flask')
    const value = c.encode('佐藤', 3600, undefined, NOW)
    assert.equal(value, `%E4%BD%90%E8%97%A4|${HEX_SATO}`)
    assert.match(value, /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/, 'cookie-octets only')
    const decoded = c.decode(value, NOW)
    assert.ok(decoded.ok)
    assert.equal(decoded.userId, '佐藤')
  })

  it("round-trips ids outside the Basic Multilingual Plane ('💥', '𠮷x'), escaped per code point", () => {
    const c = codec(['deterministic'], 'flask')
    for (const [id, escaped] of [
      ['💥', '%F0%9F%92%A5'],
      ['𠮷x', '%F0%A0%AE%B7x'],
      ['a💥佐藤😀b', 'a%F0%9F%92%A5%E4%BD%90%E8%97%A4%F0%9F%98%80b'],
    ] as const) {
      const value = c.encode(id, 3600, undefined, NOW)
      // Flask-Login's HMAC, over the id's UTF-8 bytes, after the escaped id.
      const flaskDigest = encodeCookie(id, 'deterministic').slice(id.length)
      assert.equal(value, `${escaped}${flaskDigest}`)
      assert.match(value, /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/, 'cookie-octets only')
      const decoded = c.decode(value, NOW)
      assert.ok(decoded.ok, id)
      assert.equal(decoded.userId, id)
    }
  })

  it("round-trips ids holding '%', ';', ',', space, quote and '|'", () => {
    const c = codec([NEW], 'flask')
    for (const id of ['100%', 'a;b', 'a,b', 'a b', 'say "hi"', 'a|b', 'back\\slash', 'é']) {
      const value = c.encode(id, 60, undefined, NOW)
      assert.match(value, /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/, `cookie-safe: ${id}`)
      const decoded = c.decode(value, NOW)
      assert.ok(decoded.ok, id)
      assert.equal(decoded.userId, id)
    }
  })

  it('rejects tampering, a wrong secret and malformed values', () => {
    const c = codec([NEW], 'flask')
    const value = c.encode('alice', 60, undefined, NOW)
    assert.equal(rejected(c.decode(`bob${value.slice(5)}`, NOW)), 'signature')
    assert.equal(rejected(c.decode(flip(value, value.length - 1), NOW)), 'signature')
    assert.equal(rejected(c.decode(value.slice(0, -1), NOW)), 'signature')
    assert.equal(rejected(codec([OLD], 'flask').decode(value, NOW)), 'signature')
    assert.equal(rejected(c.decode('no-bar', NOW)), 'malformed')
    assert.equal(rejected(c.decode(`|${HEX_1}`, NOW)), 'malformed')
    assert.equal(rejected(c.decode(`%E4|${HEX_1}`, NOW)), 'malformed')
  })

  it('refuses an oversized value', () => {
    const c = codec([NEW], 'flask')
    const value = c.encode('x'.repeat(4000), 60, undefined, NOW)
    assert.equal(rejected(c.decode(value, NOW)), 'oversized')
  })

  it('rotation: [new, old] accepts a value signed with [old]', () => {
    const value = codec([OLD], 'flask').encode('alice', 60, undefined, NOW)
    const decoded = codec([NEW, OLD], 'flask').decode(value, NOW)
    assert.ok(decoded.ok)
    assert.equal(decoded.userId, 'alice')
  })

  it('rotation: a value signed with an older secret reports rotated, so it is re-signed', () => {
    // DESIGN.md: "a list of secrets rotates keys: the first seals, all verify, and a cookie
    // sealed with an old key is re-sealed with the new one". Without `rotated`, a Flask-format
    // cookie is never re-issued and its user is logged out when the old secret is removed.
    const value = codec([OLD], 'flask').encode('alice', 60, undefined, NOW)
    const decoded = codec([NEW, OLD], 'flask').decode(value, NOW)
    assert.ok(decoded.ok)
    assert.equal(decoded.rotated, true)
    const current = codec([NEW, OLD], 'flask').encode('alice', 60, undefined, NOW)
    const again = codec([NEW, OLD], 'flask').decode(current, NOW)
    assert.ok(again.ok)
    assert.equal(again.rotated, false)
  })
})

describe('remember cookie through RequestAuth', () => {
  const adapter = (cookie?: string): AdapterRequest => ({
    method: 'GET',
    url: '/',
    header: (name) => (name === 'cookie' ? cookie : name === 'user-agent' ? 'UA' : undefined),
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  })
  const cookieValue = (setCookies: string[], name: string) =>
    setCookies
      .find((c) => c.startsWith(`${name}=`))
      ?.split(';')[0]
      ?.slice(name.length + 1)

  function manager(secret: string | string[], clock: { t: number }, format?: 'sealed' | 'flask') {
    return new LoginManager<{ id: string }>({
      secret,
      now: () => clock.t,
      userLoader: (id) => ({ id }),
      ...(format === undefined ? {} : { remember: { format } }),
    })
  }

  async function rememberCookie(m: LoginManager<{ id: string }>) {
    const auth = m.createAuth(adapter())
    await auth.loginUser({ id: 'alice' }, { remember: true, duration: 600 })
    const value = cookieValue(auth.commitResponse(200)?.cookies ?? [], NAME)
    assert.ok(value !== undefined && value !== '')
    return value
  }

  it('restores the user until the duration passes, then rejects it as expired and deletes it', async () => {
    const clock = { t: NOW * 1000 }
    const m = manager(NEW, clock)
    const rejections: string[] = []
    m.on('cookieRejected', ({ cookie, reason }) => rejections.push(`${cookie}:${reason}`))
    const value = await rememberCookie(m)

    clock.t += 599_000
    const ok = m.createAuth(adapter(`${NAME}=${value}`))
    assert.deepEqual(await ok.getUser(), { id: 'alice' })
    assert.equal(await ok.isFresh(), false)

    clock.t += 1_000
    const late = m.createAuth(adapter(`${NAME}=${value}`))
    assert.equal(await late.getUser(), null)
    assert.deepEqual(rejections, ['remember:expired'])
    const deletion = late.commitResponse(200)?.cookies.find((c) => c.startsWith(`${NAME}=;`))
    assert.ok(deletion?.includes('Max-Age=0'))
  })

  it('a session cookie value in the remember cookie is rejected and the request is anonymous', async () => {
    const clock = { t: NOW * 1000 }
    const m = manager(NEW, clock)
    const rejections: string[] = []
    m.on('cookieRejected', ({ cookie, reason }) => rejections.push(`${cookie}:${reason}`))
    const login = m.createAuth(adapter())
    await login.loginUser({ id: 'alice' })
    const sessionValue = cookieValue(login.commitResponse(200)?.cookies ?? [], '__Host-session')
    const auth = m.createAuth(adapter(`${NAME}=${sessionValue}`))
    assert.equal(await auth.getUser(), null)
    assert.equal(rejections.length, 1)
    assert.match(rejections[0] ?? '', /^remember:/)
  })

  it('rotation: a token from [old] logs in under [new, old] and is re-issued with the new secret', async () => {
    const clock = { t: NOW * 1000 }
    const value = await rememberCookie(manager(OLD, clock))
    const rotating = manager([NEW, OLD], clock)
    const auth = rotating.createAuth(adapter(`${NAME}=${value}`))
    assert.deepEqual(await auth.getUser(), { id: 'alice' })
    const reissued = cookieValue(auth.commitResponse(200)?.cookies ?? [], NAME)
    assert.ok(reissued !== undefined && reissued !== '' && reissued !== value)
    const newOnly = manager(NEW, clock)
    assert.deepEqual(await newOnly.createAuth(adapter(`${NAME}=${reissued}`)).getUser(), {
      id: 'alice',
    })
    assert.equal(await newOnly.createAuth(adapter(`${NAME}=${value}`)).getUser(), null)
  })

  it('flask format with sessionVersion: refused at construction, or remember-me works', async () => {
    // A Flask-format cookie carries no version, so with `sessionVersion` configured every one of
    // them is rejected as 'revoked' (and deleted): remember-me silently never works. Either the
    // combination is refused up front, or a cookie issued by this very manager must log in.
    const clock = { t: NOW * 1000 }
    let m: LoginManager<{ id: string }>
    try {
      m = new LoginManager<{ id: string }>({
        secret: NEW,
        now: () => clock.t,
        userLoader: (id) => ({ id }),
        sessionVersion: () => 1,
        remember: { format: 'flask' },
      })
    } catch (error) {
      assert.equal((error as { code?: unknown }).code, 'ERR_INVALID_OPTION')
      return
    }
    const rejections: string[] = []
    m.on('cookieRejected', ({ cookie, reason }) => rejections.push(`${cookie}:${reason}`))
    const value = await rememberCookie(m)
    assert.deepEqual(await m.createAuth(adapter(`${NAME}=${value}`)).getUser(), { id: 'alice' })
    assert.deepEqual(rejections, [])
  })

  it('flask format: the cookie set at login is encodeCookie(id, secret) and logs the user back in', async () => {
    const clock = { t: NOW * 1000 }
    const m = manager(NEW, clock, 'flask')
    const value = await rememberCookie(m)
    assert.equal(value, encodeCookie('alice', NEW))
    assert.deepEqual(await m.createAuth(adapter(`${NAME}=${value}`)).getUser(), { id: 'alice' })
  })
})
