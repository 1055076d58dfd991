import assert from 'node:assert/strict'
import { createDecipheriv } from 'node:crypto'
import { describe, it } from 'node:test'
import { KeyRing, type PurposeKeys } from './keys.ts'
import { seal, type UnsealResult, unseal } from './seal.ts'

const NEW = 'n'.repeat(32)
const OLD = 'o'.repeat(32)
const keys = new KeyRing([NEW]).forPurpose('session')

/** Asserts a failed unseal with the given reason (and that it did not throw, by being here). */
function assertFails(result: UnsealResult, reason?: string): void {
  assert.equal(result.ok, false)
  if (reason !== undefined && !result.ok) assert.equal(result.reason, reason)
}

function assertOpens(ring: PurposeKeys, sealed: string, aad: string, expected: string): boolean {
  const result = unseal(ring, sealed, aad)
  assert.ok(result.ok, `expected to open, got ${JSON.stringify(result)}`)
  assert.equal(result.plaintext, expected)
  return result.rotated
}

describe('seal/unseal', () => {
  it('round-trips empty, unicode and 3 KB plaintexts', () => {
    for (const text of ['', '{"a":1}', '佐藤 Müller 🍪 \u0000 \n', 'x'.repeat(3072)]) {
      const sealed = seal(keys, text, 'session')
      assert.equal(assertOpens(keys, sealed, 'session', text), false)
    }
  })

  it('never repeats an IV, across many refills of the IV pool, and keeps each one it gave out', () => {
    const ivOf = (sealed: string) => Buffer.from(sealed.slice(12), 'base64url').subarray(0, 12)
    const sealedValues = Array.from({ length: 2000 }, () => seal(keys, 'x', 'session'))
    const ivs = new Set(sealedValues.map((v) => ivOf(v).toString('hex')))
    assert.equal(ivs.size, sealedValues.length)
    // Every value still opens: no IV it was sealed with was overwritten by a later refill.
    for (const sealed of sealedValues) assertOpens(keys, sealed, 'session', 'x')
  })

  it('has the documented format: v1.<keyId>.<base64url(iv || ciphertext || tag)>', () => {
    const sealed = seal(keys, 'hello', 'session')
    const [version, id, body, ...rest] = sealed.split('.')
    assert.equal(version, 'v1')
    assert.equal(id, keys.current.id)
    assert.deepEqual(rest, [])
    assert.match(body!, /^[A-Za-z0-9_-]+$/)
    const bytes = Buffer.from(body!, 'base64url')
    assert.equal(bytes.length, 12 + 5 + 16)
    // Decrypt independently to pin the AAD construction: 'v1.' + keyId + '.' + aad.
    const decipher = createDecipheriv('aes-256-gcm', keys.current.raw, bytes.subarray(0, 12))
    decipher.setAAD(Buffer.from(`v1.${id}.session`))
    decipher.setAuthTag(bytes.subarray(-16))
    const plain = Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()])
    assert.equal(plain.toString(), 'hello')
  })

  it('rejects a flipped bit in every byte of iv, ciphertext and tag', () => {
    const sealed = seal(keys, 'some session payload of moderate length', 'session')
    const prefix = sealed.slice(0, 12)
    const bytes = Buffer.from(sealed.slice(12), 'base64url')
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const tampered = Buffer.from(bytes)
        tampered[i]! ^= bit
        assertFails(unseal(keys, prefix + tampered.toString('base64url'), 'session'), 'decrypt')
      }
    }
  })

  it('rejects a changed character at every position of the string', () => {
    const sealed = seal(keys, '{"uid":"42"}', 'session')
    for (let i = 0; i < sealed.length; i++) {
      const c = sealed[i] === 'A' ? 'B' : 'A'
      const tampered = sealed.slice(0, i) + c + sealed.slice(i + 1)
      assert.equal(unseal(keys, tampered, 'session').ok, false, `position ${i}`)
    }
  })

  it('rejects truncated and extended values', () => {
    const sealed = seal(keys, 'payload', 'session')
    for (let n = 0; n < sealed.length; n++) {
      assert.equal(unseal(keys, sealed.slice(0, n), 'session').ok, false, `length ${n}`)
    }
    assert.equal(unseal(keys, `${sealed}A`, 'session').ok, false)
    assert.equal(unseal(keys, `${sealed}AAAA`, 'session').ok, false)
  })

  it('rejects a different key ring that happens to have no matching id', () => {
    const other = new KeyRing([OLD]).forPurpose('session')
    assertFails(unseal(other, seal(keys, 'x', 'session'), 'session'), 'unknown-key')
  })

  it('rejects an unknown key id without trying the configured keys', () => {
    const sealed = seal(keys, 'x', 'session')
    assertFails(unseal(keys, `v1.AAAAAAAA${sealed.slice(11)}`, 'session'), 'unknown-key')
  })

  it('rejects a forged key id (right id, wrong key material) at decryption', () => {
    // An attacker can learn an id, but a value sealed under another key still fails the tag.
    const other = new KeyRing([OLD]).forPurpose('session')
    const forged = `v1.${keys.current.id}${seal(other, 'x', 'session').slice(11)}`
    assertFails(unseal(keys, forged, 'session'), 'decrypt')
  })

  it('binds the aad: sealed for "a" does not open for "b"', () => {
    const sealed = seal(keys, 'x', 'a')
    assertOpens(keys, sealed, 'a', 'x')
    assertFails(unseal(keys, sealed, 'b'), 'decrypt')
    assertFails(unseal(keys, sealed, ''), 'decrypt')
  })

  it('binds the purpose: sealed for session does not open for remember', () => {
    const ring = new KeyRing([NEW])
    const sealed = seal(ring.forPurpose('session'), 'x', 'c')
    assert.equal(unseal(ring.forPurpose('remember'), sealed, 'c').ok, false)
  })

  it('rotates: [new, old] opens an old seal with rotated: true; [new] alone cannot', () => {
    const oldSeal = seal(new KeyRing([OLD]).forPurpose('session'), 'legacy', 'session')
    const both = new KeyRing([NEW, OLD]).forPurpose('session')
    assert.equal(assertOpens(both, oldSeal, 'session', 'legacy'), true)
    // New seals use the first secret and are not "rotated".
    const fresh = seal(both, 'fresh', 'session')
    assert.ok(fresh.startsWith(`v1.${keys.current.id}.`))
    assert.equal(assertOpens(both, fresh, 'session', 'fresh'), false)
    assertFails(unseal(keys, oldSeal, 'session'), 'unknown-key')
  })

  it('never throws on garbage and calls it malformed', () => {
    const garbage = [
      '',
      'v1.',
      'v1',
      'v2.x.y',
      'v2.AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'x'.repeat(5000),
      `v1.${'A'.repeat(5000)}`,
      'v1.AAAAAAAA.',
      `v1.AAAAAAAA.${'é'.repeat(60)}`,
      `v1.AAAAAAAA.${'A'.repeat(59)}\u0000`,
      `v1.AAAAAAA.${'A'.repeat(60)}`,
      `v1.AAAAAAAA!${'A'.repeat(60)}`,
      `v1.AAAA+AAA.${'A'.repeat(60)}`,
      `v1.AAAAAAAA.${'A'.repeat(60)}==`,
      `v1.AAAAAAAA.${'A'.repeat(61)}`,
      '\u0000',
      '佐藤'.repeat(40),
      `V1.${keys.current.id}.${'A'.repeat(60)}`,
    ]
    for (const input of garbage) {
      assertFails(unseal(keys, input, 'session'), 'malformed')
    }
  })

  it('rejects a non-canonical body encoding', () => {
    // 28 bytes encode to 38 characters with 4 spare bits; setting one gives the same bytes in
    // Node's lenient decoder but must not be accepted as a second spelling of the value.
    const sealed = seal(keys, '', 'session')
    const last = sealed.at(-1)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const bumped = alphabet[alphabet.indexOf(last) + 1]!
    assertFails(unseal(keys, sealed.slice(0, -1) + bumped, 'session'), 'malformed')
  })

  it('never throws on non-string input from JavaScript callers', () => {
    for (const input of [undefined, null, 42, {}, []]) {
      assertFails(unseal(keys, input as unknown as string, 'session'), 'malformed')
    }
  })

  it('uses a distinct IV for each of 10,000 seals', () => {
    const ivs = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const sealed = seal(keys, 'same plaintext', 'session')
      ivs.add(Buffer.from(sealed.slice(12), 'base64url').subarray(0, 12).toString('hex'))
    }
    assert.equal(ivs.size, 10_000)
  })
})
