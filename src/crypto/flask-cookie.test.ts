import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeCookie, encodeCookie } from './flask-cookie.ts'

// Vectors from Flask-Login's test suite (first row) and computed with Flask-Login (the others).
const HEX_1 =
  '0e9e6e9855fbe6df7906ec4737578a1d491b38d3fd5246c1561016e189d6516043286501ca43257c938e60aad77acec5ce916b94ca9d00c0bb6f9883ae4b82ae'
const HEX_SATO =
  '19eb6417c22e6e4ba7d9ca586d4778e3436a98c174be84347090be382a1ce3b4730f292c921228e1dbccf4a638ed10f9ec0fe31a979168fa2d49c0275705a74c'
const HEX_BYTES_KEY =
  '39be2e77a757fe86c98b75f072d85c621d43cee29f4505d545ab591e78184992f91aa27714e47714be92313b9bba49c9dab4d877626f0db2e527d71f2ceb2cfe'
const BYTES_KEY = new Uint8Array([0x9e, 0x8f, 0x14])

describe('encodeCookie', () => {
  it('matches the Flask-Login vectors', () => {
    assert.equal(encodeCookie('1', 'deterministic'), `1|${HEX_1}`)
    assert.equal(encodeCookie('佐藤', 'deterministic'), `佐藤|${HEX_SATO}`)
    assert.equal(encodeCookie('1', BYTES_KEY), `1|${HEX_BYTES_KEY}`)
  })

  it('encodes a string key as latin-1, not UTF-8', () => {
    assert.equal(encodeCookie('1', '\x9e\x8f\x14'), `1|${HEX_BYTES_KEY}`)
    assert.equal(encodeCookie('1', Buffer.from([0x9e, 0x8f, 0x14])), `1|${HEX_BYTES_KEY}`)
  })

  it('throws a TypeError for a string key with a character above U+00FF', () => {
    assert.throws(() => encodeCookie('1', 'key€'), TypeError)
    assert.throws(() => encodeCookie('1', '佐藤'), TypeError)
  })
})

describe('decodeCookie', () => {
  it('decodes the Flask-Login vectors', () => {
    assert.equal(decodeCookie(`1|${HEX_1}`, 'deterministic'), '1')
    assert.equal(decodeCookie(`佐藤|${HEX_SATO}`, 'deterministic'), '佐藤')
    assert.equal(decodeCookie(`1|${HEX_BYTES_KEY}`, BYTES_KEY), '1')
    assert.equal(decodeCookie(`1|${HEX_BYTES_KEY}`, '\x9e\x8f\x14'), '1')
  })

  it('returns null for the Flask-Login bad inputs', () => {
    assert.equal(decodeCookie('Foo|BAD_BASH', 'deterministic'), null)
    assert.equal(decodeCookie('no bar', 'deterministic'), null)
  })

  it('splits on the last "|", so payloads may contain "|"', () => {
    const cookie = encodeCookie('a|b|c', 'deterministic')
    assert.equal(decodeCookie(cookie, 'deterministic'), 'a|b|c')
  })

  it('round-trips an empty payload', () => {
    assert.equal(decodeCookie(encodeCookie('', 'k'), 'k'), '')
  })

  it('returns null for a wrong key, a changed payload or a changed digest', () => {
    const cookie = `1|${HEX_1}`
    assert.equal(decodeCookie(cookie, 'other'), null)
    assert.equal(decodeCookie(`2|${HEX_1}`, 'deterministic'), null)
    for (let i = 2; i < cookie.length; i++) {
      const c = cookie[i] === '0' ? '1' : '0'
      const tampered = cookie.slice(0, i) + c + cookie.slice(i + 1)
      assert.equal(decodeCookie(tampered, 'deterministic'), null, `position ${i}`)
    }
  })

  it('returns null without throwing for digests of the wrong length or alphabet', () => {
    const bad = [
      '',
      '|',
      '1|',
      `1|${HEX_1.slice(0, -1)}`,
      `1|${HEX_1}0`,
      `1|${HEX_1.slice(0, -2)}`,
      `1|${HEX_1.toUpperCase()}`,
      `1|${HEX_1.slice(0, -1)}g`,
      `1|${HEX_1.slice(0, -1)}\u0130`,
      `1|${HEX_1.slice(0, -1)}\u0000`,
      `1|${'é'.repeat(128)}`,
      `${'|'.repeat(5000)}`,
      `1|${HEX_1}|`,
      `x`.repeat(100_000),
    ]
    for (const cookie of bad) assert.equal(decodeCookie(cookie, 'deterministic'), null)
    for (const input of [undefined, null, 1, {}]) {
      assert.equal(decodeCookie(input as unknown as string, 'deterministic'), null)
    }
  })

  it('tries several keys in order (rotation)', () => {
    const cookie = `1|${HEX_1}`
    assert.equal(decodeCookie(cookie, ['new-key', 'deterministic']), '1')
    assert.equal(decodeCookie(cookie, ['deterministic', 'new-key']), '1')
    assert.equal(decodeCookie(cookie, [BYTES_KEY, Buffer.from('deterministic')]), '1')
    assert.equal(decodeCookie(cookie, ['new-key', 'older-key']), null)
    assert.equal(decodeCookie(cookie, []), null)
  })

  it('throws a TypeError for a bad key (configuration), not for a bad cookie', () => {
    assert.throws(() => decodeCookie(`1|${HEX_1}`, '€'), TypeError)
    assert.throws(() => decodeCookie(`1|${HEX_1}`, ['other', '€']), TypeError)
  })
})
