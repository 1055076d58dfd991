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

function adapter(cookie?: string, agent = 'Browser/1'): AdapterRequest {
  const headers: Record<string, string | undefined> = { cookie, 'user-agent': agent }
  return {
    method: 'GET',
    url: '/',
    header: (name) => headers[name],
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }
}

async function logIn(manager: LoginManager<User>, agent?: string): Promise<string> {
  const auth = manager.createAuth(adapter(undefined, agent))
  await auth.loginUser(new User('ada'))
  assert.equal(auth.sessionHandle, undefined, 'a login is about to give the session a new identity')
  const effects = auth.commitResponse(303)
  await effects?.pending
  return (effects?.cookies ?? []).map((c) => c.split(';', 1)[0]).join('; ')
}

describe('auth.sessionHandle', () => {
  it("is the handle listSessions gives this request's session, once it is loaded", async () => {
    const manager = new LoginManager<User>({
      secret: randomBytes(32).toString('base64url'),
      userLoader: (id) => new User(id),
      session: { store: new MemoryStore() },
    })
    const phone = await logIn(manager, 'Phone/1')
    const laptop = await logIn(manager, 'Laptop/1')
    const listed = (await manager.listSessions('ada')).map((s) => s.handle)
    assert.equal(listed.length, 2)

    const onLaptop = manager.createAuth(adapter(laptop, 'Laptop/1'))
    assert.equal(onLaptop.sessionHandle, undefined, 'not loaded yet')
    await onLaptop.getSession()
    const mine = onLaptop.sessionHandle
    assert.ok(mine !== undefined && listed.includes(mine))

    const onPhone = manager.createAuth(adapter(phone, 'Phone/1'))
    await onPhone.getSession()
    assert.ok(onPhone.sessionHandle !== undefined && onPhone.sessionHandle !== mine)
    assert.equal(await manager.revokeSession('ada', onPhone.sessionHandle as string), true)
    assert.deepEqual(
      (await manager.listSessions('ada')).map((s) => s.handle),
      [mine],
    )
  })

  it('is undefined with cookie sessions', async () => {
    const manager = new LoginManager<User>({
      secret: randomBytes(32).toString('base64url'),
      userLoader: (id) => new User(id),
    })
    const auth = manager.createAuth(adapter(await logIn(manager)))
    assert.equal((await auth.getUser())?.id, 'ada')
    assert.equal(auth.sessionHandle, undefined)
  })
})
