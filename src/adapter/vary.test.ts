import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addVaryCookie } from './vary.ts'

describe('addVaryCookie', () => {
  it('adds Cookie to an absent or empty Vary', () => {
    assert.equal(addVaryCookie(undefined), 'Cookie')
    assert.equal(addVaryCookie(''), 'Cookie')
    assert.equal(addVaryCookie('   '), 'Cookie')
  })

  it('appends Cookie to other fields', () => {
    assert.equal(addVaryCookie('Accept'), 'Accept, Cookie')
    assert.equal(addVaryCookie('Accept, Accept-Encoding'), 'Accept, Accept-Encoding, Cookie')
    assert.equal(addVaryCookie('Cookies'), 'Cookies, Cookie', 'only the exact field name counts')
  })

  it('leaves a Vary that already covers cookies (undefined = no change)', () => {
    assert.equal(addVaryCookie('*'), undefined)
    assert.equal(addVaryCookie('cookie'), undefined)
    assert.equal(addVaryCookie('Cookie'), undefined)
    assert.equal(addVaryCookie('Accept, COOKIE'), undefined)
    assert.equal(addVaryCookie('Accept ,  cookie , Origin'), undefined)
    assert.equal(addVaryCookie('Accept, *'), undefined)
  })
})
