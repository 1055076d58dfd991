import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../shared/errors.ts'
import {
  type CookieAttributes,
  deletionCookie,
  serializeCookie,
  validateCookieOptions,
} from './serialize.ts'

/** 2024-01-02T03:04:05.000Z */
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5)
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'
const SAFE: CookieAttributes = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' }

describe('serializeCookie', () => {
  it('writes a session cookie with the safe defaults', () => {
    assert.equal(
      serializeCookie('session', 'v1.abc', SAFE, NOW),
      'session=v1.abc; Path=/; HttpOnly; Secure; SameSite=Lax',
    )
  })

  it('writes every attribute in the documented order', () => {
    const attrs: CookieAttributes = {
      domain: 'example.com',
      path: '/app',
      maxAge: 86_400,
      secure: true,
      httpOnly: true,
      sameSite: 'none',
      partitioned: true,
    }
    assert.equal(
      serializeCookie('remember_token', '1|abc', attrs, NOW),
      'remember_token=1|abc; Max-Age=86400; Domain=example.com; Path=/app; ' +
        'Expires=Wed, 03 Jan 2024 03:04:05 GMT; HttpOnly; Secure; SameSite=None; Partitioned',
    )
  })

  it('writes SameSite capitalised and omits absent or false flags', () => {
    assert.equal(serializeCookie('a', 'b', { sameSite: 'strict' }), 'a=b; SameSite=Strict')
    assert.equal(serializeCookie('a', 'b', { sameSite: 'lax' }), 'a=b; SameSite=Lax')
    assert.equal(
      serializeCookie('a', 'b', { httpOnly: false, secure: false, partitioned: false }),
      'a=b',
    )
    assert.equal(serializeCookie('a', '', {}), 'a=')
  })

  it('writes a __Host- cookie with Max-Age 0 and Expires = now', () => {
    assert.equal(
      serializeCookie('__Host-sid', 'x', { ...SAFE, maxAge: 0 }, NOW),
      '__Host-sid=x; Max-Age=0; Path=/; Expires=Tue, 02 Jan 2024 03:04:05 GMT; HttpOnly; Secure; ' +
        'SameSite=Lax',
    )
  })

  it('uses the current time when now is not given', () => {
    const before = Date.now()
    const header = serializeCookie('a', 'b', { maxAge: 60 })
    const expires = Date.parse(header.split('Expires=')[1]!)
    assert.ok(expires >= Math.floor(before / 1000) * 1000 + 60_000 - 1000)
    assert.ok(expires <= Date.now() + 60_000)
  })

  it('refuses values outside the cookie-octets', () => {
    for (const value of [
      'a b',
      'a;b',
      'a,b',
      'a"b',
      'a\\b',
      'a\r\nSet-Cookie: x=y',
      'é',
      '\u0000',
    ]) {
      assert.throws(() => serializeCookie('a', value, {}), TypeError, JSON.stringify(value))
    }
    assert.throws(() => serializeCookie('a', 42 as unknown as string, {}), TypeError)
  })

  it('accepts every cookie-octet', () => {
    let octets = ''
    for (let c = 0x21; c <= 0x7e; c++) {
      if (c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c) octets += String.fromCharCode(c)
    }
    assert.equal(serializeCookie('a', octets, {}), `a=${octets}`)
  })

  it('refuses a non-finite now when Expires is needed', () => {
    assert.throws(() => serializeCookie('a', 'b', { maxAge: 1 }, Number.NaN), TypeError)
    assert.equal(serializeCookie('a', 'b', {}, Number.NaN), 'a=b')
  })
})

describe('deletionCookie', () => {
  it('repeats every attribute the cookie was set with', () => {
    const attrs: CookieAttributes = {
      domain: '.example.com',
      path: '/app',
      maxAge: 3600,
      secure: true,
      httpOnly: true,
      sameSite: 'strict',
      partitioned: true,
    }
    assert.equal(
      deletionCookie('remember_token', attrs),
      `remember_token=; Max-Age=0; Domain=.example.com; Path=/app; Expires=${EPOCH}; HttpOnly; ` +
        'Secure; SameSite=Strict; Partitioned',
    )
  })

  it('deletes a plain cookie', () => {
    assert.equal(deletionCookie('a', {}), `a=; Max-Age=0; Expires=${EPOCH}`)
    assert.equal(
      deletionCookie('__Host-sid', SAFE),
      `__Host-sid=; Max-Age=0; Path=/; Expires=${EPOCH}; HttpOnly; Secure; SameSite=Lax`,
    )
  })

  it('validates the name and attributes but ignores maxAge', () => {
    assert.throws(() => deletionCookie('a;b', {}), TypeError)
    assert.throws(() => deletionCookie('a', { path: '/;x' }), TypeError)
    assert.equal(deletionCookie('a', { maxAge: -5 }), `a=; Max-Age=0; Expires=${EPOCH}`)
  })
})

/** [description, name, attrs, field named in the message] for every rule. */
const INVALID: [string, string, CookieAttributes, string][] = [
  ['name with ;', 'a;b', {}, 'name'],
  ['name with space', 'a b', {}, 'name'],
  ['name with CR/LF', 'a\r\nb', {}, 'name'],
  ['name with =', 'a=b', {}, 'name'],
  ['name with quote', '"a"', {}, 'name'],
  ['name with non-ASCII', 'sessión', {}, 'name'],
  ['empty name', '', {}, 'name'],
  ['injected attributes in name', 'userName=x; Max-Age=2592000; a', {}, 'name'],
  ['domain with ;', 'a', { domain: 'legit.com; Domain=.parent.tld' }, 'domain'],
  ['domain with space', 'a', { domain: 'exa mple.com' }, 'domain'],
  ['domain with CR/LF', 'a', { domain: 'example.com\r\nX: y' }, 'domain'],
  ['domain label ending with -', 'a', { domain: 'example-.com' }, 'domain'],
  ['empty domain', 'a', { domain: '' }, 'domain'],
  ['domain over 1024 bytes', 'a', { domain: `${'a'.repeat(1021)}.com` }, 'domain'],
  ['path with ;', 'a', { path: '/x; SameSite=None' }, 'path'],
  ['path with CR', 'a', { path: '/x\r' }, 'path'],
  ['path with LF', 'a', { path: '/x\n' }, 'path'],
  ['path with space', 'a', { path: '/a b' }, 'path'],
  ['path not starting with /', 'a', { path: 'app' }, 'path'],
  ['empty path', 'a', { path: '' }, 'path'],
  ['1025-byte path', 'a', { path: `/${'p'.repeat(1024)}` }, 'path'],
  ['sameSite None (capital)', 'a', { sameSite: 'None' as 'none', secure: true }, 'sameSite'],
  ['sameSite LAX', 'a', { sameSite: 'LAX' as 'lax' }, 'sameSite'],
  ['sameSite none without secure', 'a', { sameSite: 'none' }, 'sameSite'],
  ['partitioned without secure', 'a', { partitioned: true }, 'partitioned'],
  ['__Host- with domain', '__Host-a', { secure: true, path: '/', domain: 'x.com' }, 'domain'],
  ['__Host- with path /x', '__Host-a', { secure: true, path: '/x' }, 'path'],
  ['__Host- without path', '__Host-a', { secure: true }, 'path'],
  ['__Host- without secure', '__Host-a', { path: '/' }, 'secure'],
  ['__Secure- without secure', '__Secure-a', {}, 'secure'],
  ['__Secure- with secure false', '__Secure-a', { secure: false }, 'secure'],
  ['maxAge negative', 'a', { maxAge: -1 }, 'maxAge'],
  ['maxAge fractional', 'a', { maxAge: 1.5 }, 'maxAge'],
  ['maxAge NaN', 'a', { maxAge: Number.NaN }, 'maxAge'],
  ['maxAge Infinity', 'a', { maxAge: Number.POSITIVE_INFINITY }, 'maxAge'],
  ['maxAge over 400 days', 'a', { maxAge: 34_560_001 }, 'maxAge'],
  ['maxAge as a string', 'a', { maxAge: '60' as unknown as number }, 'maxAge'],
  ['secure as a string', 'a', { secure: 'false' as unknown as boolean }, 'secure'],
  ['httpOnly as a number', 'a', { httpOnly: 1 as unknown as boolean }, 'httpOnly'],
]

const VALID: [string, string, CookieAttributes][] = [
  ['no attributes', 'session', {}],
  ['the safe defaults', 'session', SAFE],
  ['__Host- done right', '__Host-session', SAFE],
  ['__Secure- with a domain and path', '__Secure-r', { secure: true, domain: 'a.io', path: '/x' }],
  ['a leading-dot domain', 'a', { domain: '.sub.example.co.uk' }],
  ['an IPv4 domain', 'a', { domain: '127.0.0.1' }],
  ['a 1024-byte path', 'a', { path: `/${'p'.repeat(1023)}` }],
  ['maxAge 0', 'a', { maxAge: 0 }],
  ['maxAge exactly 400 days', 'a', { maxAge: 34_560_000 }],
  ['sameSite none with secure', 'a', { sameSite: 'none', secure: true, partitioned: true }],
  ['every token character', "!#$%&'*+-.^_`|~09AZaz", {}],
]

describe('validateCookieOptions', () => {
  for (const [description, name, attrs, field] of INVALID) {
    it(`refuses ${description}`, () => {
      assert.throws(
        () => validateCookieOptions('remember', name, attrs),
        (err: unknown) => {
          assert.ok(err instanceof LoginManagerError)
          assert.equal(err.code, 'ERR_INVALID_OPTION')
          assert.ok(
            err.message.startsWith(`ERR_INVALID_OPTION: remember.${field}: `),
            err.message.slice(0, 200),
          )
          // The rejected input must not break the message across lines (log injection).
          assert.ok(!/[\r\n]/.test(err.message), err.message)
          return true
        },
      )
    })
  }

  for (const [description, name, attrs] of VALID) {
    it(`accepts ${description}`, () => {
      assert.doesNotThrow(() => validateCookieOptions('session', name, attrs))
    })
  }

  it('cuts a long rejected value short in the message', () => {
    assert.throws(
      () => validateCookieOptions('x', `${'a'.repeat(500)};`, {}),
      (err: Error) => {
        assert.ok(err.message.length < 300, err.message)
        return true
      },
    )
  })
})

describe('serializeCookie applies the same rules', () => {
  for (const [description, name, attrs, field] of INVALID) {
    it(`throws a TypeError for ${description}`, () => {
      assert.throws(
        () => serializeCookie(name, 'v', attrs, NOW),
        (err: unknown) => {
          assert.ok(err instanceof TypeError)
          assert.ok(err.message.startsWith(`cookie ${field}: `), err.message.slice(0, 200))
          return true
        },
      )
    })
  }

  for (const [description, name, attrs] of VALID) {
    it(`writes ${description}`, () => {
      assert.ok(serializeCookie(name, 'v', attrs, NOW).startsWith(`${name}=v`))
    })
  }
})
