import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../shared/errors.ts'
import { LoginManager, type LoginManagerOptions } from './login-manager.ts'
import { DEFAULTS, MAX_COOKIE_AGE } from './options.ts'
import { resolveOptions, resolveSecrets } from './resolve-options.ts'

// 32 bytes, 32 distinct characters.
const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'
const OTHER = 'Yp4$uQ7@oK1#wV5!lM9&sA3*gE8^iH2%'

/** Builds a manager from options that may be invalid on purpose (what a JS caller could pass). */
function build(extra: Record<string, unknown>): LoginManager<object> {
  return new LoginManager({
    secret: SECRET,
    userLoader: () => null,
    ...extra,
  } as unknown as LoginManagerOptions<object>)
}

function expectCode(fn: () => unknown, code: string, label: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LoginManagerError, `expected a LoginManagerError, got ${error}`)
    assert.equal(error.code, code)
    assert.ok(
      error.message.startsWith(`${code}: ${label}`),
      `message should name ${label}: ${error.message}`,
    )
    return true
  })
}

describe('secret', () => {
  it('is required: missing, null and empty string give ERR_SECRET_MISSING naming secret', () => {
    for (const secret of [undefined, null, '']) {
      expectCode(() => build({ secret }), 'ERR_SECRET_MISSING', 'secret')
      expectCode(() => resolveSecrets(secret), 'ERR_SECRET_MISSING', 'secret')
    }
  })

  it('an empty list is a missing secret (ERR_SECRET_MISSING naming secret)', () => {
    // `readonly string[]` admits [], so this is not a wrong type but no secret at all; the key
    // ring itself reports an empty list as ERR_SECRET_MISSING.
    expectCode(() => build({ secret: [] }), 'ERR_SECRET_MISSING', 'secret')
  })

  it('a non-string secret is a TypeError naming secret', () => {
    for (const secret of [12345678, { key: SECRET }, Buffer.from(SECRET), true]) {
      assert.throws(
        () => build({ secret }),
        (error: unknown) => {
          assert.ok(error instanceof TypeError)
          assert.match(error.message, /^secret\b/)
          return true
        },
      )
    }
    assert.throws(() => build({ secret: [SECRET, 42] }), /^TypeError: secret\[1\]/)
  })

  it('refuses 31 bytes and accepts 32 (bytes, not characters)', () => {
    const s31 = SECRET.slice(0, 31)
    assert.equal(Buffer.byteLength(s31), 31)
    expectCode(() => build({ secret: s31 }), 'ERR_SECRET_WEAK', 'secret')
    assert.doesNotThrow(() => build({ secret: SECRET }))
    // 16 two-byte characters are 32 bytes (shuffled: the alphabet in order is a sequence).
    const greek = 'ψλβωεκθσμαζφγοπτ'
    assert.equal(Buffer.byteLength(greek), 32)
    assert.doesNotThrow(() => build({ secret: greek }))
    // 15 of them are 30 bytes.
    expectCode(() => build({ secret: greek.slice(1) }), 'ERR_SECRET_WEAK', 'secret')
  })

  it('refuses the well-known secrets that are long enough to pass the length check', () => {
    for (const secret of [
      'CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET',
      'this is a very long secret that is at least 32 bytes',
      'complex_password_at_least_32_characters_long',
      '0000000000000000000000000000000000000000000000000000000000000000',
    ]) {
      assert.ok(Buffer.byteLength(secret) >= 32)
      expectCode(() => build({ secret }), 'ERR_SECRET_WEAK', 'secret')
    }
  })

  it('refuses short well-known secrets and repetitive ones', () => {
    for (const secret of ['secret', 'keyboard cat', 'changeme', 'a'.repeat(40), 'ab'.repeat(20)]) {
      expectCode(() => build({ secret }), 'ERR_SECRET_WEAK', 'secret')
    }
  })

  it('refuses low-entropy secrets (words, sequences, repeats) with the command to make one', () => {
    for (const secret of [
      '0123456789'.repeat(4),
      'abcdefghijklmnopqrstuvwxyz012345',
      'correct horse battery staple '.repeat(2),
      'my-super-secret-session-key-1234',
      'this-is-my-development-secret-key',
    ]) {
      assert.ok(Buffer.byteLength(secret) >= 32 && new Set(secret).size >= 10, secret)
      expectCode(() => build({ secret }), 'ERR_SECRET_WEAK', 'secret')
      assert.throws(() => build({ secret }), /too predictable.*`npx login-manager secret`/)
    }
    expectCode(
      () => build({ secret: [SECRET, 'my-super-secret-session-key-1234'] }),
      'ERR_SECRET_WEAK',
      'secret[1]',
    )
  })

  it('accepts random secrets as generators print them', () => {
    for (const secret of [
      randomBytes(32).toString('hex'),
      randomBytes(32).toString('base64'),
      randomBytes(32).toString('base64url'),
      randomBytes(16).toString('hex'),
    ]) {
      assert.doesNotThrow(() => build({ secret }), secret)
    }
  })

  it('accepts a list of secrets, first one current, and names the weak entry by index', () => {
    const m = build({ secret: [SECRET, OTHER] })
    assert.deepEqual(m.options.secrets, [SECRET, OTHER])
    expectCode(() => build({ secret: [SECRET, 'short'] }), 'ERR_SECRET_WEAK', 'secret[1]')
    expectCode(() => build({ secret: ['a'.repeat(40), SECRET] }), 'ERR_SECRET_WEAK', 'secret[0]')
  })

  it('refuses the same secret listed twice', () => {
    expectCode(() => build({ secret: [SECRET, SECRET] }), 'ERR_INVALID_OPTION', 'secret')
  })

  it('copies the list: changing the caller array later changes nothing', () => {
    const list = [SECRET, OTHER]
    const m = build({ secret: list })
    list.push('x')
    list[0] = 'y'
    assert.deepEqual(m.options.secrets, [SECRET, OTHER])
  })
})

describe('forceHostForRedirects', () => {
  it('keeps an ASCII host as given and turns an international one into punycode', () => {
    assert.equal(build({ forceHostForRedirects: 'Good.com' }).options.forceHost, 'Good.com')
    assert.equal(
      build({ forceHostForRedirects: 'bücher.example' }).options.forceHost,
      'xn--bcher-kva.example',
    )
    assert.equal(
      build({ forceHostForRedirects: 'shop.bücher.example:8443' }).options.forceHost,
      'shop.xn--bcher-kva.example:8443',
    )
  })
})

describe('invalid options are rejected at construction with ERR_INVALID_OPTION', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["sessionProtection 'Strong'", { sessionProtection: 'Strong' }, 'sessionProtection'],
    ["sessionProtection 'none'", { sessionProtection: 'none' }, 'sessionProtection'],
    ["remember.duration '123'", { remember: { duration: '123' } }, 'remember.duration'],
    ['remember.duration 0', { remember: { duration: 0 } }, 'remember.duration'],
    [
      'remember.duration 401 days',
      { remember: { duration: 401 * 24 * 3600 } },
      'remember.duration',
    ],
    ['remember.duration -1', { remember: { duration: -1 } }, 'remember.duration'],
    ['session.idleTimeout NaN', { session: { idleTimeout: Number.NaN } }, 'session.idleTimeout'],
    [
      'session.idleTimeout Infinity',
      { session: { idleTimeout: Number.POSITIVE_INFINITY } },
      'session.idleTimeout',
    ],
    ['session.absoluteTimeout 0', { session: { absoluteTimeout: 0 } }, 'session.absoluteTimeout'],
    [
      'session.touchInterval above idleTimeout',
      { session: { idleTimeout: 100, touchInterval: 101 } },
      'session.touchInterval',
    ],
    ["remember.format 'x'", { remember: { format: 'x' } }, 'remember.format'],
    [
      "session.keepOnLogin 'cart' (a key, not a list)",
      { session: { keepOnLogin: 'cart' } },
      'session.keepOnLogin',
    ],
    ["session.keepOnLogin 'All'", { session: { keepOnLogin: 'All' } }, 'session.keepOnLogin'],
    ['session.keepOnLogin true', { session: { keepOnLogin: true } }, 'session.keepOnLogin'],
    ['session.keepOnLogin [1]', { session: { keepOnLogin: ['cart', 1] } }, 'session.keepOnLogin'],
    ["session.keepOnLogin ['']", { session: { keepOnLogin: [''] } }, 'session.keepOnLogin'],
    [
      'session.keepOnLogin a Set',
      { session: { keepOnLogin: new Set(['cart']) } },
      'session.keepOnLogin',
    ],
    ["nextField 'a b'", { nextField: 'a b' }, 'nextField'],
    ["nextField ''", { nextField: '' }, 'nextField'],
    ["forceHostForRedirects 'a/b'", { forceHostForRedirects: 'a/b' }, 'forceHostForRedirects'],
    ["forceHostForRedirects 'ü b'", { forceHostForRedirects: 'ü b' }, 'forceHostForRedirects'],
    ["forceHostForRedirects 'ü<x>'", { forceHostForRedirects: 'ü<x>' }, 'forceHostForRedirects'],
    ["forceHostForRedirects ''", { forceHostForRedirects: '' }, 'forceHostForRedirects'],
    ['forceHostForRedirects 42', { forceHostForRedirects: 42 }, 'forceHostForRedirects'],
    [
      "forceHostForRedirects 'evil.com@x'",
      { forceHostForRedirects: 'evil.com@x' },
      'forceHostForRedirects',
    ],
    ["origin 'not a url'", { origin: 'not a url' }, 'origin'],
    ["origin 'javascript:alert(1)'", { origin: 'javascript:alert(1)' }, 'origin'],
    [
      "allowedRedirectOrigins ['ftp://x']",
      { allowedRedirectOrigins: ['ftp://x'] },
      'allowedRedirectOrigins',
    ],
    [
      "allowedRedirectOrigins ['nope']",
      { allowedRedirectOrigins: ['https://ok.example', 'nope'] },
      'allowedRedirectOrigins',
    ],
    ["session.name with ';'", { session: { name: 'sid;x' } }, 'session.name'],
    ["remember.name with ';'", { remember: { name: 'rem;Domain=evil' } }, 'remember.name'],
    ['session.name with a space', { session: { name: 'a b' } }, 'session.name'],
    [
      "session sameSite 'none' without secure",
      { session: { name: 'sid', sameSite: 'none', secure: false } },
      'session.sameSite',
    ],
    [
      "remember sameSite 'none' without secure",
      { remember: { name: 'rem', sameSite: 'none', secure: false } },
      'remember.sameSite',
    ],
    ["sameSite 'Lax' (wrong case)", { session: { sameSite: 'Lax' } }, 'session.sameSite'],
    [
      '__Host- session name with a domain',
      { session: { domain: 'example.com' } },
      'session.domain',
    ],
    [
      '__Host- remember name with a domain',
      { remember: { name: '__Host-rem', domain: 'example.com' } },
      'remember.domain',
    ],
    ['__Host- name with a path other than /', { session: { path: '/app' } }, 'session.path'],
    ['__Host- name without secure', { session: { secure: false } }, 'session.secure'],
    ["path 'app' (no leading slash)", { session: { name: 'sid', path: 'app' } }, 'session.path'],
    [
      'remember.name equal to session.name',
      { session: { name: 'sid' }, remember: { name: 'sid' } },
      'remember.name',
    ],
    [
      'remember.name equal to the default session name',
      { remember: { name: '__Host-session' } },
      'remember.name',
    ],
  ]
  for (const [title, extra, label] of cases) {
    it(title, () => expectCode(() => build(extra), 'ERR_INVALID_OPTION', label))
  }

  it('accepts the boundaries: 400 days, 1 second, touchInterval 0 and equal to idleTimeout', () => {
    assert.doesNotThrow(() => build({ remember: { duration: MAX_COOKIE_AGE } }))
    assert.doesNotThrow(() => build({ remember: { duration: 1 } }))
    assert.doesNotThrow(() => build({ session: { touchInterval: 0 } }))
    assert.doesNotThrow(() => build({ session: { idleTimeout: 100, touchInterval: 100 } }))
  })

  it('refuses a non-object options argument with a TypeError', () => {
    assert.throws(() => resolveOptions(undefined as unknown as LoginManagerOptions<object>), {
      name: 'TypeError',
    })
    assert.throws(() => resolveOptions(null as unknown as LoginManagerOptions<object>), TypeError)
  })
})

describe('defaults', () => {
  it('DEFAULTS is frozen, nested objects too', () => {
    assert.ok(Object.isFrozen(DEFAULTS))
    assert.ok(Object.isFrozen(DEFAULTS.session))
    assert.ok(Object.isFrozen(DEFAULTS.remember))
    assert.ok(Object.isFrozen(DEFAULTS.exemptMethods))
  })

  it('DEFAULTS holds the documented secure values', () => {
    assert.deepEqual(
      { ...DEFAULTS.session },
      {
        name: '__Host-session',
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'lax',
        idleTimeout: 3600,
        absoluteTimeout: 43200,
        touchInterval: 60,
        keepOnLogin: 'all',
      },
    )
    assert.deepEqual(
      { ...DEFAULTS.remember },
      {
        name: '__Host-remember',
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'lax',
        duration: 2592000,
        refreshEachRequest: false,
        format: 'sealed',
      },
    )
    assert.equal(DEFAULTS.sessionProtection, 'basic')
    assert.equal(DEFAULTS.nextField, 'next')
    assert.deepEqual([...DEFAULTS.exemptMethods], ['OPTIONS'])
    assert.equal(MAX_COOKIE_AGE, 400 * 24 * 3600)
  })

  it('resolved options with only a secret are exactly DEFAULTS', () => {
    const o = build({}).options
    const d = DEFAULTS
    assert.deepEqual(o.secrets, [SECRET])
    assert.equal(o.loginMessage, d.loginMessage)
    assert.equal(o.loginMessageCategory, d.loginMessageCategory)
    assert.equal(o.refreshMessage, d.refreshMessage)
    assert.equal(o.refreshMessageCategory, d.refreshMessageCategory)
    assert.equal(o.nextField, d.nextField)
    assert.equal(o.sessionProtection, d.sessionProtection)
    assert.deepEqual([...o.exemptMethods], [...d.exemptMethods])
    assert.equal(o.useSessionForNext, false)
    assert.equal(o.negotiate, true)
    assert.equal(o.forceHost, undefined)
    assert.equal(o.origin, undefined)
    assert.deepEqual(o.allowedRedirectOrigins, [])
    assert.equal(o.now, Date.now)

    assert.equal(o.session.name, d.session.name)
    assert.equal(o.session.idleTimeout, d.session.idleTimeout)
    assert.equal(o.session.absoluteTimeout, d.session.absoluteTimeout)
    assert.equal(o.session.touchInterval, d.session.touchInterval)
    assert.equal(o.session.keepOnLogin, 'all')
    assert.deepEqual(
      { ...o.session.attributes },
      {
        domain: undefined,
        path: d.session.path,
        secure: d.session.secure,
        httpOnly: d.session.httpOnly,
        sameSite: d.session.sameSite,
      },
    )
    assert.equal(o.remember.name, d.remember.name)
    assert.equal(o.remember.duration, d.remember.duration)
    assert.equal(o.remember.refreshEachRequest, d.remember.refreshEachRequest)
    assert.equal(o.remember.format, d.remember.format)
    assert.deepEqual(
      { ...o.remember.attributes },
      {
        domain: undefined,
        path: d.remember.path,
        secure: d.remember.secure,
        httpOnly: d.remember.httpOnly,
        sameSite: d.remember.sameSite,
      },
    )
  })

  it('undefined fields fall back to defaults rather than erasing them', () => {
    const o = build({
      session: { name: undefined, secure: undefined, idleTimeout: undefined },
      remember: { path: undefined, duration: undefined },
      sessionProtection: undefined,
      nextField: undefined,
    }).options
    assert.equal(o.session.name, '__Host-session')
    assert.equal(o.session.attributes.secure, true)
    assert.equal(o.session.idleTimeout, 3600)
    assert.equal(o.remember.attributes.path, '/')
    assert.equal(o.remember.duration, 2592000)
    assert.equal(o.sessionProtection, 'basic')
    assert.equal(o.nextField, 'next')
  })

  it("session.keepOnLogin: 'all', 'none' or a list of keys, copied and frozen", () => {
    assert.equal(build({ session: { keepOnLogin: 'none' } }).options.session.keepOnLogin, 'none')
    const keys = ['cart', 'locale']
    const resolved = build({ session: { keepOnLogin: keys } }).options.session.keepOnLogin
    assert.deepEqual(resolved, ['cart', 'locale'])
    assert.ok(Object.isFrozen(resolved))
    keys.push('later')
    assert.deepEqual(resolved, ['cart', 'locale'], "the caller's array is copied")
    assert.deepEqual(build({ session: { keepOnLogin: [] } }).options.session.keepOnLogin, [])
  })

  it('touchInterval defaults to at most half the idle timeout', () => {
    assert.equal(build({ session: { idleTimeout: 30 } }).options.session.touchInterval, 15)
  })

  it('keeps sessionProtection null and normalises exempt methods and origins', () => {
    const o = build({
      sessionProtection: null,
      exemptMethods: ['options', 'Head'],
      origin: 'https://App.Example:443/ignored/path',
      allowedRedirectOrigins: ['https://auth.example/x'],
    }).options
    assert.equal(o.sessionProtection, null)
    assert.deepEqual([...o.exemptMethods].sort(), ['HEAD', 'OPTIONS'])
    assert.equal(o.origin, 'https://app.example')
    assert.deepEqual(o.allowedRedirectOrigins, ['https://auth.example'])
  })

  it('resolved options are frozen', () => {
    const o = build({}).options
    assert.ok(Object.isFrozen(o))
    assert.ok(Object.isFrozen(o.session))
    assert.ok(Object.isFrozen(o.session.attributes))
    assert.ok(Object.isFrozen(o.remember))
  })
})

describe("the caller's options object", () => {
  function deepFreeze<T>(value: T): T {
    if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
      Object.freeze(value)
      for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
    }
    return value
  }

  it('is never mutated (deeply frozen input is accepted, and compares equal afterwards)', () => {
    const now = () => 1
    const input: LoginManagerOptions<object> = {
      secret: [SECRET, OTHER],
      userLoader: () => null,
      now,
      session: { name: 'sid', secure: false, idleTimeout: 100, touchInterval: undefined },
      remember: { name: 'rem', duration: 60, domain: undefined },
      exemptMethods: ['options'],
      allowedRedirectOrigins: ['https://a.example/'],
      origin: 'https://app.example/',
    }
    const snapshot = {
      ...input,
      secret: [SECRET, OTHER],
      session: { ...input.session },
      remember: { ...input.remember },
      exemptMethods: ['options'],
      allowedRedirectOrigins: ['https://a.example/'],
    }
    deepFreeze(input)
    const m = new LoginManager(input)
    assert.deepEqual(input, snapshot)
    assert.notEqual(m.options.session, input.session)
    assert.equal(m.options.now, now)
  })

  it('is not mutated when it holds nothing but a secret', () => {
    const input = { secret: SECRET }
    build(input)
    new LoginManager(input)
    assert.deepEqual(Object.keys(input), ['secret'])
  })
})
