import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnonymousUser, UserMixin } from './mixins.ts'

class User extends UserMixin {
  constructor(readonly id: string | number) {
    super()
  }
}

class Inactive extends UserMixin {
  readonly id = 'x'
  override get isActive(): boolean {
    return false
  }
}

class NoId extends UserMixin {}

class CustomId extends UserMixin {
  override getId(): string {
    return 'custom'
  }
}

describe('UserMixin', () => {
  it("has Flask-Login's defaults: active, authenticated, not anonymous", () => {
    const user = new User('1')
    assert.equal(user.isActive, true)
    assert.equal(user.isAuthenticated, true)
    assert.equal(user.isAnonymous, false)
  })

  it('is not authenticated while inactive', () => {
    const user = new Inactive()
    assert.equal(user.isActive, false)
    assert.equal(user.isAuthenticated, false)
    assert.equal(user.isAnonymous, false)
  })

  it('getId returns the id as a string', () => {
    assert.equal(new User('abc').getId(), 'abc')
    assert.equal(new User(1).getId(), '1')
    assert.equal(new User(0).getId(), '0')
    assert.equal(typeof new User(42).getId(), 'string')
  })

  it('getId throws a TypeError telling to override getId when there is no id', () => {
    assert.throws(() => new NoId().getId(), {
      name: 'TypeError',
      message: 'No `id` attribute - override `getId`',
    })
    const nullId = Object.assign(new NoId(), { id: null })
    assert.throws(() => nullId.getId(), TypeError)
  })

  it('an overridden getId is used by equals', () => {
    assert.equal(new CustomId().equals(new CustomId()), true)
  })

  it('equals compares ids of UserMixins', () => {
    assert.equal(new User('1').equals(new User('1')), true)
    assert.equal(new User(1).equals(new User('1')), true, 'Flask compares get_id() strings')
    assert.equal(new User('1').equals(new User('2')), false)
    assert.equal(new User('1').equals({ id: '1' }), false)
    assert.equal(new User('1').equals({ id: '1', getId: () => '1' }), false)
    assert.equal(new User('1').equals(null), false)
    assert.equal(new User('1').equals(undefined), false)
    assert.equal(new User('1').equals('1'), false)
  })

  it('works in a Set (identity), and equal users stay distinct entries', () => {
    const a = new User('1')
    const b = new User('1')
    const c = new User('2')
    const set = new Set([a, a, b, c])
    assert.equal(set.size, 3)
    assert.ok(set.has(a))
    assert.ok(set.has(b))
    assert.ok(a.equals(b))
  })
})

describe('AnonymousUser', () => {
  it("has Flask-Login's AnonymousUserMixin values", () => {
    const anon = new AnonymousUser()
    assert.equal(anon.isActive, false)
    assert.equal(anon.isAuthenticated, false)
    assert.equal(anon.isAnonymous, true)
    assert.equal(anon.getId(), null)
  })

  it('is not a UserMixin, so it never equals a user', () => {
    const anon = new AnonymousUser()
    assert.ok(!(anon instanceof UserMixin))
    assert.equal(new User('1').equals(anon), false)
  })
})
