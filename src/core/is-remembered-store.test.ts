// isRemembered() with a session store, where the remember-me cookie is a store token rather
// than a sealed cookie.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { AdapterRequest } from '../shared/types.ts'
import { MemoryStore } from '../stores/memory.ts'
import { LoginManager } from './login-manager.ts'
import { UserMixin } from './mixins.ts'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

function adapter(cookie?: string): AdapterRequest {
  return {
    method: 'GET',
    url: '/',
    header: (name) => (name === 'cookie' ? cookie : name === 'user-agent' ? 'B/1' : undefined),
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }
}

describe('isRemembered() with server-side remember-me tokens', () => {
  it('is true when the request carries the remember-me token of the logged-in user', async () => {
    const manager = new LoginManager<User>({
      secret: randomBytes(32).toString('base64url'),
      userLoader: (id) => new User(id),
      session: { store: new MemoryStore() },
    })
    const cookiesAfter = async (remember: boolean) => {
      const login = manager.createAuth(adapter())
      await login.loginUser(new User('ada'), { remember })
      const effects = login.commitResponse(303)
      await effects?.pending
      return new Map(
        (effects?.cookies ?? []).map((c) => c.split(';', 1)[0]?.split('=') as [string, string]),
      )
    }
    const remembered = await cookiesAfter(true)
    const both = [...remembered].map(([n, v]) => `${n}=${v}`).join('; ')
    assert.equal(await manager.createAuth(adapter(both)).isRemembered(), true)

    const rememberOnly = `__Host-remember=${remembered.get('__Host-remember')}`
    const restored = manager.createAuth(adapter(rememberOnly))
    assert.equal((await restored.getUser())?.id, 'ada')
    assert.equal(await restored.isRemembered(), true, 'a login restored from the token')

    const plain = await cookiesAfter(false)
    const sessionOnly = `__Host-session=${plain.get('__Host-session')}`
    assert.equal(await manager.createAuth(adapter(sessionOnly)).isRemembered(), false)
    assert.equal(await manager.createAuth(adapter()).isRemembered(), false)
  })
})
