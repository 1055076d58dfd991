// The README's first command: `npm start` serves the basic example, and the basic flow works
// against that real process over HTTP (no SESSION_SECRET set, as on a fresh clone). With
// SESSION_STORE=sqlite (and a SESSION_SECRET), a login outlives a restart of the process.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START_ARGS = ['--conditions=login-manager-source', '--import', 'tsx', 'examples/start.ts']
const STARTUP_MS = 20_000

interface Started {
  readonly child: ChildProcess
  readonly output: () => string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const children = new Set<ChildProcess>()

/** Spawns the start script in its own process group, as `npm start` would run it. */
function start(env: Record<string, string>): Started {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  if (env.SESSION_SECRET === undefined) delete childEnv.SESSION_SECRET
  delete childEnv.NODE_TEST_CONTEXT
  for (const name of ['FRAMEWORK', 'EXAMPLE', 'SESSION_STORE'] as const) {
    if (env[name] === undefined) delete childEnv[name]
  }
  const child = spawn(process.execPath, START_ARGS, {
    cwd: ROOT,
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child)
      resolve({ code, signal })
    })
  })
  return { child, output: () => output, exited }
}

/** Ends the child's whole process group: SIGTERM, then SIGKILL if it lingers. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal)
    } catch {
      // Already gone.
    }
  }
  signalGroup('SIGTERM')
  const timer = setTimeout(() => signalGroup('SIGKILL'), 3_000)
  await gone
  clearTimeout(timer)
}

after(async () => {
  await Promise.all([...children].map(stop))
})

/** A port nobody listens on right now: bind port 0, read it, release it. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  assert.ok(address !== null && typeof address === 'object')
  return address.port
}

/** Just enough of a cookie jar for one host: Set-Cookie in, Cookie out. */
class CookieJar {
  readonly #cookies = new Map<string, string>()

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.split('=', 2).map((s) => s.trim())
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0
        if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now()
        return false
      })
      if (expired || value === '') this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/** Requests to `base` with a cookie jar, never following redirects: a browser, for the flow. */
function browserLike(base: string) {
  const jar = new CookieJar()
  return async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    const cookie = jar.header()
    if (cookie !== '') headers.set('cookie', cookie)
    const response = await fetch(base + path, { ...init, headers, redirect: 'manual' })
    jar.store(response)
    return { response, text: await response.text() }
  }
}

/** Waits until the server answers HTTP, or fails (with its output) when it exits or times out. */
async function waitUntilServing(base: string, started: Started): Promise<void> {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  void started.exited.then((e) => {
    exit = e
  })
  const deadline = Date.now() + STARTUP_MS
  for (;;) {
    if (exit !== undefined) {
      assert.fail(`npm start exited (${JSON.stringify(exit)}) before serving:\n${started.output()}`)
    }
    try {
      const response = await fetch(`${base}/`, { signal: AbortSignal.timeout(1_000) })
      await response.arrayBuffer()
      return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      assert.fail(
        `npm start did not answer on ${base} within ${STARTUP_MS} ms:\n${started.output()}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('npm start (examples/start.ts)', { timeout: 45_000 }, () => {
  test('serves the basic example and the login flow works over HTTP', async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const started = start({ PORT: String(port) })
    try {
      await waitUntilServing(base, started)
      assert.match(started.output(), new RegExp(`http://127\\.0\\.0\\.1:${port}/`))

      const request = browserLike(base)
      const postLogin = (password: string) =>
        request('/login', {
          method: 'POST',
          body: new URLSearchParams({ email: 'leafstorm', password }),
        })

      const anonymous = await request('/protected')
      assert.equal(anonymous.response.status, 302)
      assert.match(anonymous.response.headers.get('location') ?? '', /next=%2Fprotected/)

      const wrong = await postLogin('wrong')
      assert.equal(wrong.response.status, 401)
      // Flask-Login's "Bad login", on the form again, which still posts back with next.
      assert.match(wrong.text, /Bad login: that user name and password do not match\./)
      assert.match(wrong.text, /<form class="card" action="\/login" method="POST">/)
      const stillAnonymous = await request('/protected')
      assert.equal(stillAnonymous.response.status, 302, 'a wrong password does not log in')

      const right = await postLogin('secret')
      assert.equal(right.response.status, 303)
      assert.equal(right.response.headers.get('location'), '/protected')

      const protectedPage = await request('/protected')
      assert.equal(protectedPage.response.status, 200)
      assert.match(protectedPage.text, /<p>Logged in as: leafstorm<\/p>/)
      assert.match(protectedPage.text, /<form class="inline" method="POST" action="\/logout">/)

      const logout = await request('/logout')
      assert.equal(logout.response.status, 200)
      assert.match(logout.text, /<h1>Logged out<\/h1>/)

      const afterLogout = await request('/protected')
      assert.notEqual(afterLogout.response.status, 200, '/protected is refused after logout')
    } finally {
      await stop(started.child)
    }
  })

  test('EXAMPLE=account SESSION_STORE=memory serves the account example over HTTP', async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const started = start({ PORT: String(port), EXAMPLE: 'account', SESSION_STORE: 'memory' })
    try {
      await waitUntilServing(base, started)
      assert.match(started.output(), /account example \(express, memory sessions\)/)
      const request = browserLike(base)
      const anonymous = await request('/account')
      assert.equal(anonymous.response.headers.get('location'), '/login?next=%2Faccount')
      const login = await request('/login?next=%2Faccount', {
        method: 'POST',
        body: new URLSearchParams({ username: 'leafstorm', password: 'secret', remember: 'on' }),
      })
      assert.equal(login.response.status, 303)
      assert.equal(login.response.headers.get('location'), '/account')
      const account = await request('/account')
      assert.match(account.text, /Welcome, Leaf Storm\./)
      const devices = await request('/account/devices')
      assert.match(devices.text, /This device<span class="badge">you are here<\/span>/)
      const logout = await request('/logout', { method: 'POST' })
      assert.equal(logout.response.headers.get('location'), '/')
      assert.match((await request('/')).text, /You are logged out on this browser\./)
    } finally {
      await stop(started.child)
    }
  })

  test('SESSION_STORE=sqlite: the account example keeps logins in SQLITE_PATH, across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lm-start-sqlite-'))
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      PORT: String(port),
      EXAMPLE: 'account',
      SESSION_STORE: 'sqlite',
      SQLITE_PATH: join(dir, 'sessions.db'),
      SESSION_SECRET: randomBytes(32).toString('base64url'),
    }
    const request = browserLike(base)
    try {
      const first = start(env)
      try {
        await waitUntilServing(base, first)
        assert.match(first.output(), /account example \(express, sqlite sessions\)/)
        assert.ok(first.output().includes(`sessions in SQLite: ${env.SQLITE_PATH}`))
        const login = await request('/login?next=%2Faccount', {
          method: 'POST',
          body: new URLSearchParams({ username: 'leafstorm', password: 'secret' }),
        })
        assert.equal(login.response.status, 303)
        assert.match((await request('/account')).text, /Welcome, Leaf Storm\./)
      } finally {
        await stop(first.child)
      }
      const second = start(env)
      try {
        await waitUntilServing(base, second)
        const account = await request('/account')
        assert.equal(account.response.status, 200, 'the session outlived the process')
        const devices = await request('/account/devices')
        assert.match(devices.text, /This device<span class="badge">you are here<\/span>/)
      } finally {
        await stop(second.child)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('EXAMPLE=nosuch exits non-zero and names EXAMPLE', async () => {
    const started = start({ PORT: String(await freePort()), EXAMPLE: 'nosuch' })
    const result = await started.exited
    assert.notEqual(result.code, 0)
    assert.match(started.output(), /EXAMPLE=nosuch is not one of: basic, account/)
  })

  test('FRAMEWORK=nosuch exits non-zero and names FRAMEWORK', async () => {
    const port = await freePort()
    const started = start({ PORT: String(port), FRAMEWORK: 'nosuch' })
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STARTUP_MS)
    })
    try {
      const result = await Promise.race([started.exited, timedOut])
      assert.notEqual(
        result,
        'timeout',
        `still running after ${STARTUP_MS} ms:\n${started.output()}`,
      )
      if (result === 'timeout') return
      assert.equal(result.signal, null, `killed by ${result.signal}:\n${started.output()}`)
      assert.notEqual(result.code, 0)
      assert.match(started.output(), /FRAMEWORK/)
    } finally {
      clearTimeout(timer)
      await stop(started.child)
    }
  })
})
