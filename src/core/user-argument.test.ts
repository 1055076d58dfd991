import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { AdapterRequest } from '../shared/types.ts'
import { LoginManager } from './login-manager.ts'
import { UserMixin } from './mixins.ts'
import { checkUserArgument } from './user-argument.ts'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

const adapter: AdapterRequest = {
  method: 'POST',
  url: '/login',
  header: () => undefined,
  clientAddress: '127.0.0.1',
  origin: 'http://localhost',
  raw: null,
}

function auth() {
  const manager = new LoginManager<User>({
    secret: randomBytes(32).toString('base64url'),
    userLoader: (id) => new User(id),
  })
  return manager.createAuth(adapter)
}

describe('loginUser(user) with something that is not a user', () => {
  it('undefined: says a user object was expected and to check the user was found', async () => {
    await assert.rejects(auth().loginUser(undefined as unknown as User), {
      name: 'TypeError',
      message:
        'loginUser: expected the user object (what your userLoader returns), got undefined; check that the user was found before logging them in',
    })
  })

  it('null: the same', async () => {
    await assert.rejects(auth().loginUser(null as unknown as User), {
      name: 'TypeError',
      message: /^loginUser: expected the user object \(what your userLoader returns\), got null;/,
    })
  })

  it("an id ('ada'): says to pass the user object, not its id", async () => {
    await assert.rejects(auth().loginUser('ada' as unknown as User), {
      name: 'TypeError',
      message:
        'loginUser: expected the user object, got the string "ada": pass the user object (what your userLoader returns for that id), not its id',
    })
    await assert.rejects(auth().loginUser(42 as unknown as User), {
      message: /got the number 42: pass the user object .*not its id$/,
    })
  })

  it('nothing is logged in, and a real user still logs in afterwards', async () => {
    const a = auth()
    await assert.rejects(a.loginUser('ada' as unknown as User), TypeError)
    assert.equal(await a.getUser(), null)
    assert.equal(await a.loginUser(new User('ada')), true)
    assert.equal((await a.getUser())?.id, 'ada')
  })

  it('checkUserArgument lets any object through and names other types', () => {
    assert.doesNotThrow(() => checkUserArgument('op', { id: 1 }))
    assert.throws(() => checkUserArgument('op', true), {
      message: 'op: expected the user object, got a boolean',
    })
    assert.throws(
      () => checkUserArgument('op', 'x'.repeat(500)),
      (error: Error) => {
        assert.ok(error.message.length < 300, 'a long string is cut short')
        return true
      },
    )
  })
})
