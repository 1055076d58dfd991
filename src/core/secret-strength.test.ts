import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { estimateSecretBits, MIN_SECRET_BITS } from './secret-strength.ts'

describe('estimateSecretBits', () => {
  // Secrets people write by hand: each long enough and varied enough for the older checks.
  const refused: string[] = [
    '0123456789'.repeat(4),
    'abcdefghijklmnopqrstuvwxyz012345',
    'zyxwvutsrqponmlkjihgfedcba987654',
    'my-super-secret-session-key-1234',
    'this-is-my-development-secret-key',
    'correct horse battery staple '.repeat(2),
    'correct-horse-battery-staple-42!',
    'hello world '.repeat(3),
    'keyboard cat keyboard cat keyboard cat',
    'p4ssw0rd-p4ssw0rd-p4ssw0rd-p4ssw0rd',
    'Sup3rS3cr3tK3y!Sup3rS3cr3tK3y!!!',
    'qwertyuiopasdfghjklzxcvbnm123456',
    'abcabcabcabcabcabcabcabcabcabcab',
    'ChangeMe-ChangeMe-ChangeMe-2024!',
    'secretsecretsecretsecretsecret12',
    'admin-password-for-production-01',
  ]
  for (const secret of refused) {
    it(`refuses ${JSON.stringify(secret)}`, () => {
      const bits = estimateSecretBits(secret)
      assert.ok(bits < MIN_SECRET_BITS, `${bits.toFixed(1)} bits`)
    })
  }

  // What generators print, and secrets from this repository's own tests and examples.
  const accepted: string[] = [
    'fixes-suite-secret-4Kp9Qz2Lm7Rx1TwB8cNv3Hy6',
    'security-suite-secret-7Hq2Wm9Zx4Lp1Rt8Vb3Nc6',
    'ψλβωεκθσμαζφγοπτ',
    'kX9#mQ2$vL7@pR4!wT8&zN3*bH6^jF1%',
    '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
    'iKh1X3sSeTnBEuf6aFg3lS7VyYxRnk9Gd2GBa8hmsQk',
    'Vw2y-gravel-tundra-oyster-mantle-quarry-pinnacle',
  ]
  for (const secret of accepted) {
    it(`accepts ${JSON.stringify(secret)}`, () => {
      const bits = estimateSecretBits(secret)
      assert.ok(bits >= MIN_SECRET_BITS, `${bits.toFixed(1)} bits`)
    })
  }

  // Real random secrets must always pass: the lowest estimate over many draws stays well above
  // the limit (the margin is what makes a refusal of a random secret practically impossible).
  const generators: Array<[string, () => string, number]> = [
    ['32 bytes, hex', () => randomBytes(32).toString('hex'), 200],
    ['32 bytes, HEX', () => randomBytes(32).toString('hex').toUpperCase(), 200],
    ['32 bytes, base64 (openssl rand -base64 32)', () => randomBytes(32).toString('base64'), 180],
    [
      '32 bytes, base64url (npx login-manager secret)',
      () => randomBytes(32).toString('base64url'),
      160,
    ],
    ['16 bytes, hex', () => randomBytes(16).toString('hex'), 110],
    ['24 bytes, base64', () => randomBytes(24).toString('base64'), 130],
  ]
  for (const [label, generate, floor] of generators) {
    it(`accepts random secrets: ${label}`, () => {
      let lowest = Number.POSITIVE_INFINITY
      for (let i = 0; i < 300; i++) lowest = Math.min(lowest, estimateSecretBits(generate()))
      assert.ok(lowest >= floor, `lowest estimate ${lowest.toFixed(1)} bits`)
    })
  }

  it('grows with length and never throws on odd input', () => {
    assert.equal(estimateSecretBits(''), 0)
    assert.ok(estimateSecretBits('\ud800\udfff\ud800') > 0)
    const random = randomBytes(32).toString('base64url')
    assert.ok(estimateSecretBits(`${random}${random}`) < estimateSecretBits(random) + 20)
    assert.ok(estimateSecretBits('x'.repeat(100_000)) < 20)
  })
})
