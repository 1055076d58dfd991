/**
 * The multi-instance scenarios, for any three instances of the basic example that share one
 * store: a login through one is recognised by the others; a logout through another is refused by
 * all (session and remember cookies); `logoutEverywhere` from a manager outside the instances
 * takes effect on every instance at its next request. The Cluster and Sentinel tests run them on
 * three in-process servers, each with its own client, started by {@link startInstances} (the
 * same scenarios as `instances.test.ts`, which runs three processes on one store).
 *
 * @module
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { it } from 'node:test'
import { serve } from '@hono/node-server'
import { LoginManager, type SessionStore } from 'login-manager'
import { CookieJar, parseSetCookie } from '../support/client.ts'

const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'

/** An instance of the basic example answering on `base`. */
export interface Instance {
  readonly name: string
  readonly base: string
}

/** What the scenarios need: three instances, their secret, and the store they share. */
export interface InstanceSet {
  readonly instances: readonly [Instance, Instance, Instance]
  readonly secret: string
  /** A store on the same data, for a manager outside the instances ("another process"). */
  readonly outsideStore: SessionStore
  /** Store keys written so far (to see that the session lives in the store). */
  storedKeys(): Promise<string[]>
}

export interface Answer {
  readonly status: number
  readonly body: string
  readonly location: string | null
}

/** A request carrying exactly `cookies` (nothing is kept from the answer). */
export async function requestWith(
  base: string,
  path: string,
  cookies: Record<string, string>,
): Promise<Answer> {
  const header = Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ')
  const res = await fetch(base + path, {
    redirect: 'manual',
    headers: header === '' ? {} : { cookie: header },
  })
  return { status: res.status, body: await res.text(), location: res.headers.get('location') }
}

/** A browser whose cookies are shared by every instance (they serve the same site). */
export class Browser {
  readonly jar = new CookieJar()

  async request(
    base: string,
    method: string,
    path: string,
    form?: Record<string, string>,
  ): Promise<Answer> {
    const headers: Record<string, string> = {}
    const cookie = this.jar.header(path)
    if (cookie !== undefined) headers.cookie = cookie
    if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(base + path, {
      method,
      redirect: 'manual',
      headers,
      ...(form === undefined ? {} : { body: new URLSearchParams(form).toString() }),
    })
    for (const line of res.headers.getSetCookie()) {
      const parsed = parseSetCookie(line)
      if (parsed !== undefined) this.jar.receive(parsed, path)
    }
    return { status: res.status, body: await res.text(), location: res.headers.get('location') }
  }

  /** POST /login as leafstorm with "remember me". */
  async login(base: string): Promise<void> {
    const res = await this.request(base, 'POST', '/login', {
      email: 'leafstorm',
      password: 'secret',
      remember: 'on',
    })
    assert.equal(res.status, 303, `login through ${base}: ${res.status} ${res.body}`)
    assert.ok(this.jar.get(SESSION) !== undefined, 'login set a session cookie')
    assert.ok(this.jar.get(REMEMBER) !== undefined, 'login set a remember cookie')
  }

  /** The session and remember cookie values now. */
  cookies(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const name of [SESSION, REMEMBER]) {
      const value = this.jar.get(name)?.value
      if (value !== undefined) out[name] = value
    }
    return out
  }
}

export function assertLoggedIn(answer: Answer, where: string): void {
  assert.equal(answer.status, 200, `${where}: ${answer.status} ${answer.body}`)
  assert.match(answer.body, /Logged in as: leafstorm/, where)
}

export function assertRefused(answer: Answer, where: string): void {
  assert.equal(
    answer.status,
    302,
    `${where}: expected a redirect to the login page, got ${answer.status} ${answer.body}`,
  )
  assert.match(answer.location ?? '', /^\/login\b/, where)
}

/**
 * Registers the three scenarios (with `it`, in the caller's `describe`) on the set `get()`
 * returns once the caller's `before` hooks have run. They run in order and share the user.
 */
export function instanceScenarios(get: () => InstanceSet): void {
  const first = new Browser()

  it('a login through one instance is recognised by the others', async () => {
    const { instances, storedKeys } = get()
    const [a, b, c] = instances
    await first.login(a.base)
    assertLoggedIn(await first.request(a.base, 'GET', '/protected'), `${a.name} (A)`)
    assertLoggedIn(await first.request(b.base, 'GET', '/protected'), `${b.name} (B)`)
    assertLoggedIn(await first.request(c.base, 'GET', '/protected'), `${c.name} (C)`)
    assert.ok((await storedKeys()).length > 0, 'the session is in the store')
  })

  it('a logout through another instance is refused by all, remember cookie included', async () => {
    const [a, b, c] = get().instances
    const loggedOut = first.cookies()
    assert.deepEqual(Object.keys(loggedOut).sort(), [REMEMBER, SESSION].sort())
    const res = await first.request(b.base, 'GET', '/logout')
    assert.equal(res.status, 200)
    assert.match(res.body, /<h1>Logged out<\/h1>/)
    for (const instance of [a, c, b]) {
      assertRefused(
        await requestWith(instance.base, '/protected', loggedOut),
        `${instance.name}, old session and remember cookies`,
      )
      assertRefused(
        await requestWith(instance.base, '/protected', { [REMEMBER]: loggedOut[REMEMBER] ?? '' }),
        `${instance.name}, old remember cookie alone`,
      )
      assertRefused(
        await requestWith(instance.base, '/protected', { [SESSION]: loggedOut[SESSION] ?? '' }),
        `${instance.name}, old session cookie alone`,
      )
    }
  })

  it('logoutEverywhere from another process ends every session on every instance', async () => {
    const { instances, secret, outsideStore } = get()
    const [a, b, c] = instances
    const two = new Browser()
    const three = new Browser()
    await two.login(a.base)
    await three.login(b.base)
    const jars = [two.cookies(), three.cookies()]
    for (const instance of instances) {
      for (const [i, jar] of jars.entries()) {
        assertLoggedIn(
          await requestWith(instance.base, '/protected', jar),
          `${instance.name}, browser ${i + 2}`,
        )
      }
    }

    const manager = new LoginManager<{ id: string }>({
      secret,
      userLoader: (id) => ({ id }),
      session: { store: outsideStore },
    })
    assert.equal((await manager.listSessions('leafstorm')).length, 2, 'both sessions are listed')
    const ended = await manager.logoutEverywhere('leafstorm')
    assert.equal(ended, 4, 'two sessions and two remember tokens')
    assert.deepEqual(await manager.listSessions('leafstorm'), [])

    for (const instance of [a, b, c]) {
      for (const [i, jar] of jars.entries()) {
        assertRefused(
          await requestWith(instance.base, '/protected', jar),
          `${instance.name}, browser ${i + 2}`,
        )
        assertRefused(
          await requestWith(instance.base, '/protected', { [REMEMBER]: jar[REMEMBER] ?? '' }),
          `${instance.name}, browser ${i + 2}, remember cookie alone`,
        )
      }
    }
  })
}

/** A framework of the basic example, and the store its instance uses. */
export interface InstanceSpec {
  readonly framework: 'express' | 'hono' | 'fastify'
  /** Shown in failure messages, such as `express (ioredis)`. */
  readonly name: string
  readonly store: SessionStore
}

/**
 * Starts the basic example in this process, once per spec, each on its own loopback port with
 * its own store: instances of one app that share only the secret and the data behind the stores.
 */
export async function startInstances(
  specs: readonly [InstanceSpec, InstanceSpec, InstanceSpec],
  secret: string,
): Promise<{ instances: [Instance, Instance, Instance]; close(): Promise<void> }> {
  const closers: (() => Promise<void>)[] = []
  const start = async (spec: InstanceSpec): Promise<Instance> => {
    let port: number
    if (spec.framework === 'express') {
      const { createApp } = await import('../../examples/basic/express.ts')
      const server = createApp(secret, spec.store).listen(0, '127.0.0.1')
      await new Promise<void>((resolve) => server.once('listening', () => resolve()))
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
      port = (server.address() as AddressInfo).port
    } else if (spec.framework === 'hono') {
      const { createApp } = await import('../../examples/basic/hono.ts')
      const app = createApp(secret, spec.store)
      const info = await new Promise<AddressInfo>((resolve) => {
        const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, resolve)
        closers.push(() => new Promise<void>((done) => server.close(() => done())))
      })
      port = info.port
    } else {
      const { createApp } = await import('../../examples/basic/fastify.ts')
      const app = await createApp(secret, spec.store)
      await app.listen({ port: 0, host: '127.0.0.1' })
      closers.push(async () => {
        await app.close()
      })
      port = (app.server.address() as AddressInfo).port
    }
    return { name: spec.name, base: `http://127.0.0.1:${port}` }
  }
  const close = async () => {
    await Promise.all(closers.map((closer) => closer()))
  }
  try {
    const instances = (await Promise.all(specs.map(start))) as [Instance, Instance, Instance]
    return { instances, close }
  } catch (err) {
    await close()
    throw err
  }
}
