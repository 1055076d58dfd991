/**
 * Many instances, one Redis: three processes of the basic example (`examples/start.ts`, on
 * Express, Hono and Fastify) share `REDIS_URL` under one `REDIS_PREFIX` unique to the run, with
 * the same `SESSION_SECRET`. A login through one is recognised by the others; a logout through
 * another is refused by all (session and remember cookies); `logoutEverywhere` called from this
 * process takes effect on every instance at its next request.
 *
 * Without Redis the test is skipped with a printed reason, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Redis } from 'ioredis'
import { LoginManager } from 'login-manager'
import { RedisStore } from 'login-manager/redis'
import { CookieJar, parseSetCookie } from '../support/client.ts'
import {
  deleteByPrefix,
  freePort,
  ON_CI,
  probeRedis,
  REDIS_URL,
  rawClient,
  scanKeys,
  sleep,
} from './support.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START_ARGS = ['--conditions=login-manager-source', '--import', 'tsx', 'examples/start.ts']
const STARTUP_MS = 30_000
const SECRET = randomBytes(32).toString('base64url')
const PREFIX = `lminst-${randomUUID().slice(0, 8)}:`
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'
const FRAMEWORKS = ['express', 'hono', 'fastify'] as const

interface Instance {
  readonly name: string
  readonly base: string
  readonly child: ChildProcess
  output(): string
}

const children = new Set<ChildProcess>()

/** Spawns one instance in its own process group. */
function spawnInstance(framework: string, port: number): Instance {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FRAMEWORK: framework,
    PORT: String(port),
    HOST: '127.0.0.1',
    SESSION_STORE: 'redis',
    SESSION_SECRET: SECRET,
    REDIS_URL,
    REDIS_PREFIX: PREFIX,
  }
  delete env.NODE_TEST_CONTEXT
  const child = spawn(process.execPath, START_ARGS, {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let output = ''
  const collect = (chunk: string) => {
    output = (output + chunk).slice(-8000)
  }
  child.stdout?.setEncoding('utf8').on('data', collect)
  child.stderr?.setEncoding('utf8').on('data', collect)
  return { name: framework, base: `http://127.0.0.1:${port}`, child, output: () => output }
}

/** Ends a child's whole process group: SIGTERM, then SIGKILL if it lingers. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), signal)
    } catch {
      // Already gone.
    }
  }
  signalGroup('SIGTERM')
  const timer = setTimeout(() => signalGroup('SIGKILL'), 3_000)
  await gone
  clearTimeout(timer)
}

/** Waits until the instance answers HTTP; fails with its output when it exits or times out. */
async function waitUntilServing(instance: Instance): Promise<void> {
  const deadline = Date.now() + STARTUP_MS
  for (;;) {
    const { exitCode, signalCode } = instance.child
    if (exitCode !== null || signalCode !== null) {
      assert.fail(
        `${instance.name} exited (${exitCode ?? signalCode}) before serving:\n${instance.output()}`,
      )
    }
    try {
      const res = await fetch(`${instance.base}/`, { redirect: 'manual' })
      await res.arrayBuffer()
      if (res.status === 200) return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      assert.fail(`${instance.name} did not answer within ${STARTUP_MS} ms:\n${instance.output()}`)
    }
    await sleep(100)
  }
}

interface Answer {
  readonly status: number
  readonly body: string
  readonly location: string | null
}

/** A request carrying exactly `cookies` (nothing is kept from the answer). */
async function requestWith(
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
class Browser {
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

function assertLoggedIn(answer: Answer, where: string): void {
  assert.equal(answer.status, 200, `${where}: ${answer.status} ${answer.body}`)
  assert.match(answer.body, /Logged in as: leafstorm/, where)
}

function assertRefused(answer: Answer, where: string): void {
  assert.equal(
    answer.status,
    302,
    `${where}: expected a redirect to the login page, got ${answer.status} ${answer.body}`,
  )
  assert.match(answer.location ?? '', /^\/login\b/, where)
}

const unreachable = await probeRedis()

if (unreachable !== null && !ON_CI) {
  console.log(`# skipping the three-instance test: ${unreachable}`)
}

describe('three instances sharing one Redis', {
  skip: unreachable !== null && !ON_CI ? unreachable : false,
}, () => {
  if (unreachable !== null) {
    it('needs a reachable Redis on CI', () => {
      assert.fail(`${unreachable}. Start Redis or set REDIS_URL; on CI this test must run.`)
    })
    return
  }

  let instances: Instance[] = []
  let client: Redis | undefined

  before(async () => {
    client = rawClient()
    const ports = await Promise.all(FRAMEWORKS.map(() => freePort()))
    instances = FRAMEWORKS.map((framework, i) => spawnInstance(framework, ports[i] as number))
    await Promise.all(instances.map(waitUntilServing))
  })

  after(async () => {
    await Promise.all([...children].map(stop))
    if (client !== undefined) {
      try {
        await deleteByPrefix(client, PREFIX)
        assert.equal((await scanKeys(client, PREFIX)).length, 0)
      } finally {
        client.disconnect()
      }
    }
  })

  const byName = (name: string): Instance => {
    const found = instances.find((x) => x.name === name)
    assert.ok(found !== undefined, `no ${name} instance`)
    return found
  }

  const first = new Browser()
  let loggedOut: Record<string, string> = {}

  it('a login through one instance is recognised by the others', async () => {
    const [a, b, c] = FRAMEWORKS.map(byName) as [Instance, Instance, Instance]
    await first.login(a.base)
    assertLoggedIn(await first.request(a.base, 'GET', '/protected'), `${a.name} (A)`)
    assertLoggedIn(await first.request(b.base, 'GET', '/protected'), `${b.name} (B)`)
    assertLoggedIn(await first.request(c.base, 'GET', '/protected'), `${c.name} (C)`)
    assert.ok((await scanKeys(client as Redis, PREFIX)).length > 0, 'the session is in Redis')
  })

  it('a logout through another instance is refused by all, remember cookie included', async () => {
    const [a, b, c] = FRAMEWORKS.map(byName) as [Instance, Instance, Instance]
    loggedOut = first.cookies()
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
    const [a, b, c] = FRAMEWORKS.map(byName) as [Instance, Instance, Instance]
    const two = new Browser()
    const three = new Browser()
    await two.login(a.base)
    await three.login(a.base)
    const jars = [two.cookies(), three.cookies()]
    for (const instance of [a, b, c]) {
      for (const [i, jar] of jars.entries()) {
        assertLoggedIn(
          await requestWith(instance.base, '/protected', jar),
          `${instance.name}, browser ${i + 2}`,
        )
      }
    }

    const manager = new LoginManager<{ id: string }>({
      secret: SECRET,
      userLoader: (id) => ({ id }),
      session: { store: new RedisStore({ client: client as Redis, prefix: PREFIX }) },
    })
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

  it('every instance is still running', () => {
    for (const instance of instances) {
      assert.equal(instance.child.exitCode, null, `${instance.name}:\n${instance.output()}`)
    }
  })
})
