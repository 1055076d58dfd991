import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import { KeyRing } from './keys.ts'
import { sign, type VerifyResult, verify } from './sign.ts'

const NEW = 'n'.repeat(32)
const OLD = 'o'.repeat(32)
const keys = new KeyRing([NEW]).forPurpose('session-id')
const ID = 'k3Jx_9-abcDEF012'

function assertFails(result: VerifyResult, reason?: string): void {
  assert.equal(result.ok, false)
  if (reason !== undefined && !result.ok) assert.equal(result.reason, reason)
}

describe('sign/verify', () => {
  it('round-trips base64url ids, an empty value and unicode', () => {
    for (const value of [ID, '', 'a', '佐藤', 'x'.repeat(500)]) {
      const result = verify(keys, sign(keys, value))
      assert.deepEqual(result, { ok: true, value, rotated: false })
    }
  })

  it('has the documented format: value.keyId.base64url(HMAC-SHA256(value))', () => {
    const mac = createHmac('sha256', keys.current.raw).update(ID).digest('base64url')
    assert.equal(sign(keys, ID), `${ID}.${keys.current.id}.${mac}`)
    assert.equal(mac.length, 43)
  })

  it('refuses to sign a value containing "."', () => {
    assert.throws(() => sign(keys, 'a.b'), TypeError)
  })

  it('rejects a changed character at every position', () => {
    const signed = sign(keys, ID)
    for (let i = 0; i < signed.length; i++) {
      const c = signed[i] === 'A' ? 'B' : 'A'
      const tampered = signed.slice(0, i) + c + signed.slice(i + 1)
      assert.equal(verify(keys, tampered).ok, false, `position ${i}`)
    }
  })

  it('rejects a swapped value with a valid-looking suffix', () => {
    const suffix = sign(keys, ID).slice(ID.length)
    assertFails(verify(keys, `other${suffix}`), 'signature')
  })

  it('rejects a non-canonical MAC encoding of the right bytes', () => {
    // 32 bytes in 43 characters leave 2 spare bits; setting one keeps the bytes in Node's decoder.
    const signed = sign(keys, ID)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const bumped = alphabet[alphabet.indexOf(signed.at(-1)!) + 1]!
    assertFails(verify(keys, signed.slice(0, -1) + bumped), 'malformed')
  })

  it('rejects truncated and extended values', () => {
    const signed = sign(keys, ID)
    for (let n = 0; n < signed.length; n++) {
      assert.equal(verify(keys, signed.slice(0, n)).ok, false, `length ${n}`)
    }
    assert.equal(verify(keys, `${signed}A`).ok, false)
    assert.equal(verify(keys, `${signed}.`).ok, false)
    assert.equal(verify(keys, `x.${signed}`).ok, false)
  })

  it('rejects an unknown key id', () => {
    const other = new KeyRing([OLD]).forPurpose('session-id')
    assertFails(verify(keys, sign(other, ID)), 'unknown-key')
  })

  it('rejects a value signed for another purpose', () => {
    const ring = new KeyRing([NEW])
    assert.equal(
      verify(ring.forPurpose('other'), sign(ring.forPurpose('session-id'), ID)).ok,
      false,
    )
  })

  it('rotates: [new, old] accepts an old signature with rotated: true; [new] alone cannot', () => {
    const oldSigned = sign(new KeyRing([OLD]).forPurpose('session-id'), ID)
    const both = new KeyRing([NEW, OLD]).forPurpose('session-id')
    assert.deepEqual(verify(both, oldSigned), { ok: true, value: ID, rotated: true })
    assert.deepEqual(verify(both, sign(both, ID)), { ok: true, value: ID, rotated: false })
    assertFails(verify(keys, oldSigned), 'unknown-key')
  })

  it('never throws on garbage', () => {
    const id = keys.current.id
    const mac = 'A'.repeat(43)
    const garbage = [
      '',
      '.',
      '..',
      'x'.repeat(5000),
      '.'.repeat(5000),
      '\u0000',
      '佐藤'.repeat(40),
      `${ID}.${id}.${mac}`,
      `${ID}.${id}.${'A'.repeat(42)}=`,
      `${ID}.${id}.${'é'.repeat(43)}`,
      `${ID}.${id}!${mac}`,
      `${ID}!${id}.${mac}`,
      `${ID}.${'+'.repeat(8)}.${mac}`,
      `a.b.${id}.${mac}`,
    ]
    for (const input of garbage) assert.equal(verify(keys, input).ok, false, input.slice(0, 40))
    for (const input of [undefined, null, 42, {}]) {
      assertFails(verify(keys, input as unknown as string), 'malformed')
    }
  })
})
