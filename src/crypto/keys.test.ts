import assert from 'node:assert/strict'
import { createHmac, hkdfSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../shared/errors.ts'
import { isCanonicalBase64url, KeyRing } from './keys.ts'

const A = 'a'.repeat(32)
const B = 'b'.repeat(32)
const C = 'c'.repeat(32)

describe('KeyRing', () => {
  it('derives deterministically: two rings of the same secret agree', () => {
    const one = new KeyRing([A]).forPurpose('session').current
    const two = new KeyRing([A]).forPurpose('session').current
    assert.deepEqual(one.raw, two.raw)
    assert.equal(one.id, two.id)
  })

  it('matches an independent HKDF-SHA256 computation (salt, info, length)', () => {
    const expected = Buffer.from(
      hkdfSync('sha256', Buffer.from(A), Buffer.from('login-manager/v1'), 'session', 32),
    )
    const key = new KeyRing([A]).forPurpose('session').current
    assert.deepEqual(key.raw, expected)
    assert.equal(key.raw.length, 32)
    const id = createHmac('sha256', expected).update('key-id').digest('base64url').slice(0, 8)
    assert.equal(key.id, id)
  })

  it('encodes the secret as UTF-8', () => {
    const secret = `${'é'.repeat(16)}佐藤`
    const expected = Buffer.from(
      hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('login-manager/v1'), 'x', 32),
    )
    assert.deepEqual(new KeyRing([secret]).forPurpose('x').current.raw, expected)
  })

  it('gives different keys and ids per purpose', () => {
    const ring = new KeyRing([A])
    const session = ring.forPurpose('session').current
    const remember = ring.forPurpose('remember').current
    assert.notDeepEqual(session.raw, remember.raw)
    assert.notEqual(session.id, remember.id)
  })

  it('gives different keys and ids per secret', () => {
    const a = new KeyRing([A]).forPurpose('session').current
    const b = new KeyRing([B]).forPurpose('session').current
    assert.notDeepEqual(a.raw, b.raw)
    assert.notEqual(a.id, b.id)
  })

  it('makes ids of 8 base64url characters', () => {
    const ring = new KeyRing([A, B, C])
    for (const purpose of ['session', 'remember', 'session-id', '']) {
      for (const key of ring.forPurpose(purpose).byId.values()) {
        assert.match(key.id, /^[A-Za-z0-9_-]{8}$/)
      }
    }
  })

  it('exposes a secret KeyObject of the raw bytes', () => {
    const key = new KeyRing([A]).forPurpose('session').current
    assert.equal(key.key.type, 'secret')
    assert.equal(key.key.symmetricKeySize, 32)
    assert.deepEqual(key.key.export(), key.raw)
  })

  it('keeps rotation order: the first secret is current, all are in byId', () => {
    const ring = new KeyRing([C, B, A])
    const keys = ring.forPurpose('session')
    const single = (s: string) => new KeyRing([s]).forPurpose('session').current
    assert.equal(keys.purpose, 'session')
    assert.equal(keys.current.id, single(C).id)
    assert.deepEqual([...keys.byId.keys()], [single(C).id, single(B).id, single(A).id])
    assert.equal(keys.byId.get(keys.current.id), keys.current)
  })

  it('caches per purpose and returns frozen objects', () => {
    const ring = new KeyRing([A, B])
    const keys = ring.forPurpose('session')
    assert.equal(ring.forPurpose('session'), keys)
    assert.ok(Object.isFrozen(keys))
    assert.ok(Object.isFrozen(keys.current))
  })

  it('refuses a secret listed twice', () => {
    const ring = new KeyRing([A, B, A])
    assert.throws(
      () => ring.forPurpose('session'),
      (err: unknown) =>
        err instanceof LoginManagerError &&
        err.code === 'ERR_INVALID_OPTION' &&
        err.message ===
          'ERR_INVALID_OPTION: secret: the same secret is listed twice; remove the duplicate',
    )
  })

  it('refuses two strings with the same UTF-8 bytes (lone surrogates)', () => {
    // Both lone surrogates encode to U+FFFD in UTF-8, so they are one secret in disguise.
    const ring = new KeyRing([`${A}\ud800`, `${A}\udc00`])
    assert.throws(() => ring.forPurpose('session'), { code: 'ERR_INVALID_OPTION' })
  })

  it('refuses an empty list', () => {
    assert.throws(() => new KeyRing([]), { code: 'ERR_SECRET_MISSING' })
  })
})

describe('isCanonicalBase64url', () => {
  const check = isCanonicalBase64url

  it('accepts canonical encodings of every length class', () => {
    for (let n = 0; n < 40; n++) {
      const encoded = Buffer.alloc(n, 0xa5).toString('base64url')
      assert.ok(check(encoded), encoded)
    }
  })

  it('rejects padding, foreign characters and impossible lengths', () => {
    for (const s of [
      'QQ==',
      'A+B/',
      'AB CD',
      'A',
      'ABCDE',
      'Zm9v\u00e9',
      'Zm9v\u0000',
      'Zm.v',
      'QUJ\n',
      'QUJD\n',
    ]) {
      assert.equal(check(s), false, s)
    }
  })

  it('rejects non-zero unused bits in the last character', () => {
    // 'QQ' is canonical for 'A'; 'QR' decodes to the same byte in Node but is not canonical.
    assert.ok(check('QQ'))
    assert.equal(check('QR'), false)
    assert.ok(check('QUI'))
    assert.equal(check('QUJ'), false)
  })
})
