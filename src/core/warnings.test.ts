import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type { AdapterRequest } from '../shared/types.ts'
import type { ResponseEffects } from './auth.ts'
import { LoginManager, type LoginManagerOptions } from './login-manager.ts'
import { UserMixin } from './mixins.ts'
import { isLoopbackHost, RECENT_LOGIN_SECONDS } from './warnings.ts'

const SECRET = randomBytes(32).toString('base64url')

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

function adapter(origin: string, headers: Record<string, string> = {}): AdapterRequest {
  return {
    method: 'POST',
    url: '/login',
    header: (name) => headers[name],
    clientAddress: '192.0.2.7',
    origin,
    raw: null,
  }
}

/** console.warn, recorded (and kept off the test output). */
function warnings(t: TestContext): () => string[] {
  const warn = t.mock.method(console, 'warn', () => {})
  return () => warn.mock.calls.map((call) => String(call.arguments[0]))
}

function manager(extra: Partial<LoginManagerOptions<User>> = {}) {
  return new LoginManager<User>({ secret: SECRET, userLoader: (id) => new User(id), ...extra })
}

const cookieHeader = (effects: ResponseEffects | null) =>
  (effects?.cookies ?? []).map((c) => c.split(';', 1)[0]).join('; ')

describe('a login over plain HTTP to a host other than localhost', () => {
  it('warns once, naming the URL, the Secure cookies and the fixes', async (t) => {
    const warned = warnings(t)
    const m = manager()
    await m.createAuth(adapter('http://devbox.test:6401')).loginUser(new User('ada'))
    await m.createAuth(adapter('http://devbox.test:6401')).loginUser(new User('ada'))
    assert.equal(warned().length, 1, 'once per manager')
    const [message = ''] = warned()
    assert.match(
      message,
      /^login-manager: a login was answered over plain HTTP \(http:\/\/devbox\.test:6401\) with Secure cookies \(__Host-session and __Host-remember\)\. Browsers keep Secure cookies from http:\/\/ pages only on localhost/,
    )
    assert.match(message, /the login loops back to the login page/)
    assert.match(message, /Serve the app over HTTPS/)
    assert.match(message, /trust proxy/)
    assert.match(message, /http:\/\/localhost/)
    assert.match(message, /session: \{ name: 'session', secure: false \}/)
  })

  it('the Origin header the browser sent decides: an https page behind a TLS proxy is fine', async (t) => {
    const warned = warnings(t)
    const m = manager()
    const proxied = adapter('http://app.example', { origin: 'https://app.example' })
    await m.createAuth(proxied).loginUser(new User('ada'))
    assert.deepEqual(warned(), [])
    const direct = adapter('https://app.example', { origin: 'http://app.example' })
    await m.createAuth(direct).loginUser(new User('ada'))
    assert.equal(warned().length, 1)
  })

  it('a fine login does not hide a later one from another origin', async (t) => {
    const warned = warnings(t)
    const m = manager()
    for (let i = 0; i < 3; i++) {
      await m.createAuth(adapter('http://localhost:3000')).loginUser(new User('ada'))
    }
    assert.deepEqual(warned(), [])
    await m.createAuth(adapter('http://devbox.test:6401')).loginUser(new User('ada'))
    assert.equal(warned().length, 1, 'the new origin is checked')
    const m2 = manager()
    const fine = adapter('http://devbox.test:6401', { origin: 'https://devbox.test' })
    await m2.createAuth(fine).loginUser(new User('ada'))
    // The same request origin, without the Origin header that made it fine.
    await m2.createAuth(adapter('http://devbox.test:6401')).loginUser(new User('ada'))
    assert.equal(warned().length, 2)
  })

  it('no warning on loopback hosts, over HTTPS, with the origin option, or without Secure', async (t) => {
    const warned = warnings(t)
    for (const origin of [
      'http://localhost:3000',
      'http://app.localhost',
      'http://127.0.0.1:5000',
      'http://127.8.9.10',
      'http://[::1]:3000',
      'https://devbox.test:6401',
    ]) {
      await manager().createAuth(adapter(origin)).loginUser(new User('ada'))
    }
    const behindProxy = manager({ origin: 'https://app.example' })
    await behindProxy.createAuth(adapter('http://10.0.0.5:8080')).loginUser(new User('ada'))
    const insecure = manager({
      session: { name: 'session', secure: false },
      remember: { name: 'remember', secure: false },
    })
    await insecure.createAuth(adapter('http://devbox.test:6401')).loginUser(new User('ada'))
    assert.deepEqual(warned(), [])
  })

  it('isLoopbackHost follows the browsers’ list of potentially trustworthy hosts', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      'a.b.localhost',
      '127.0.0.1',
      '127.1.2.3',
      '[::1]',
      '::1',
    ]) {
      assert.equal(isLoopbackHost(host), true, host)
    }
    for (const host of [
      'devbox.test',
      'localhost.example',
      '10.0.0.1',
      '128.0.0.1',
      '[::2]',
      '0.0.0.0',
    ]) {
      assert.equal(isLoopbackHost(host), false, host)
    }
  })
})

describe('a login dropped right after it was made (the user loader did not find the user)', () => {
  /** Logs `id` in, then makes the next request with the cookie `seconds` later. */
  async function nextRequest(m: LoginManager<User>, clock: { t: number }, seconds: number) {
    const login = m.createAuth(adapter('http://localhost'))
    await login.loginUser(new User('leafstorm'))
    const cookie = cookieHeader(login.commitResponse(303))
    clock.t += seconds * 1000
    const next = m.createAuth(adapter('http://localhost', { cookie }))
    return next.getUser()
  }

  it('a loader that forgot to return: warns once, saying it returned undefined', async (t) => {
    const warned = warnings(t)
    const clock = { t: Date.UTC(2030, 0, 1) }
    const users = new Map([['leafstorm', new User('leafstorm')]])
    // What `(id) => { users.get(id) }` does in JavaScript.
    const forgetful = ((id: string) => {
      users.get(id)
    }) as unknown as (id: string) => User | null
    const m = manager({ userLoader: forgetful, now: () => clock.t })
    const rejected: string[] = []
    m.on('cookieRejected', ({ reason }) => rejected.push(reason))
    assert.equal(await nextRequest(m, clock, 2), null)
    assert.equal(await nextRequest(m, clock, 2), null)
    assert.deepEqual(rejected, ['unknown-user', 'unknown-user'])
    assert.equal(warned().length, 1, 'once per manager')
    assert.equal(
      warned()[0],
      'login-manager: userLoader did not find the user "leafstorm", logged in 2 s ago, so that login was dropped and the request is anonymous (cookieRejected \'unknown-user\'). The loader returned undefined: if it has a block body, check that it returns the user (`(id) => { return users.get(id) ?? null }`). This warning is shown once, and not when NODE_ENV is production.',
    )
  })

  it('a loader that answers null: points at the id it looks up', async (t) => {
    const warned = warnings(t)
    const clock = { t: Date.UTC(2030, 0, 1) }
    const m = manager({ userLoader: () => null, now: () => clock.t })
    await nextRequest(m, clock, 1)
    assert.match(
      warned()[0] ?? '',
      /The loader returned null: check that it finds users by the id loginUser stores/,
    )
  })

  it('says nothing for a login lost long after it was made, or in production', async (t) => {
    const warned = warnings(t)
    const clock = { t: Date.UTC(2030, 0, 1) }
    const options = { userLoader: () => null, now: () => clock.t }
    await nextRequest(manager(options), clock, RECENT_LOGIN_SECONDS + 1)
    const before = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      await nextRequest(manager(options), clock, 1)
    } finally {
      if (before === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = before
    }
    assert.deepEqual(warned(), [])
  })
})
