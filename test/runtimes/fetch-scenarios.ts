/**
 * The Fetch adapter end to end on whichever runtime runs this file: Node (`node --import tsx`),
 * Bun (`bun run`) or Deno (`deno run`). It builds a small app on the BUILT library (`dist/`),
 * serves it with the runtime's own HTTP server, drives it over real HTTP with `fetch` and a
 * minimal cookie jar, and prints one line per scenario:
 *
 *     ok <name>
 *     not ok <name>: <why>
 *     <N> passed, <M> failed
 *
 * then exits (code 1 when anything failed). Only web-standard APIs and `node:crypto` are used,
 * plus `node:http` on Node, which has no built-in Fetch server. `test/runtimes/runtimes.test.ts`
 * runs it on all three runtimes.
 *
 * The library is loaded with `import()` so that `tsc --noEmit` (which runs before `npm run
 * build` in `npm test`) does not need `dist/`; its types come from the sources dist is built from.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type * as FetchEntry from '../../src/adapters/fetch.ts'
import type * as MainEntry from '../../src/index.ts'
import type * as TestingEntry from '../../src/testing/index.ts'

// ---------------------------------------------------------------- runtimes

interface ClientContext {
  clientAddress?: string | undefined
}
type AppHandler = (request: Request, context: ClientContext) => Response | Promise<Response>

interface BunServer {
  readonly port: number
  requestIP(request: Request): { address: string } | null
  stop(closeActiveConnections?: boolean): unknown
}
interface BunGlobal {
  readonly version: string
  serve(options: {
    port: number
    hostname: string
    fetch(request: Request, server: BunServer): Response | Promise<Response>
  }): BunServer
}
interface DenoServer {
  readonly addr: { hostname: string; port: number }
  shutdown(): Promise<void>
}
interface DenoGlobal {
  readonly version: { readonly deno: string }
  serve(
    options: {
      port: number
      hostname: string
      onListen(address: { hostname: string; port: number }): void
    },
    handler: (
      request: Request,
      info: { remoteAddr: { hostname: string; port: number } },
    ) => Response | Promise<Response>,
  ): DenoServer
  exit(code: number): never
}

const { Bun, Deno } = globalThis as unknown as { Bun?: BunGlobal; Deno?: DenoGlobal }
const RUNTIME =
  Deno !== undefined
    ? `deno ${Deno.version.deno}`
    : Bun !== undefined
      ? `bun ${Bun.version}`
      : `node ${process.version}`

/** A running server: its origin (`http://127.0.0.1:1234`) and how to stop it. */
interface Served {
  readonly origin: string
  stop(): Promise<void>
}

function serveBun(bun: BunGlobal, handler: AppHandler): Served {
  const server = bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, srv) => handler(request, { clientAddress: srv.requestIP(request)?.address }),
  })
  return {
    origin: `http://127.0.0.1:${server.port}`,
    stop: async () => {
      await server.stop(true)
    },
  }
}

function serveDeno(deno: DenoGlobal, handler: AppHandler): Promise<Served> {
  return new Promise((resolve) => {
    const server = deno.serve(
      {
        port: 0,
        hostname: '127.0.0.1',
        onListen: ({ port }) => {
          resolve({ origin: `http://127.0.0.1:${port}`, stop: () => server.shutdown() })
        },
      },
      (request, info) => handler(request, { clientAddress: info.remoteAddr.hostname }),
    )
  })
}

/** Node has no Fetch server: node:http plus a tiny Request/Response bridge. */
async function serveNode(handler: AppHandler): Promise<Served> {
  const { createServer } = await import('node:http')
  const bridge = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const method = req.method ?? 'GET'
      const headers = new Headers()
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers.set(name, value)
        else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
      }
      let body: Blob | null = null
      if (method !== 'GET' && method !== 'HEAD') {
        const chunks: Uint8Array[] = []
        for await (const chunk of req) chunks.push(chunk as Uint8Array)
        body = new Blob(chunks)
      }
      const url = `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`
      const response = await handler(new Request(url, { method, headers, body }), {
        clientAddress: req.socket.remoteAddress,
      })
      const out: Record<string, string | string[]> = {}
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') out[name] = value
      })
      const cookies = response.headers.getSetCookie()
      if (cookies.length > 0) out['set-cookie'] = cookies
      res.writeHead(response.status, out)
      res.end(new Uint8Array(await response.arrayBuffer()))
    } catch (error) {
      console.error('# bridge error:', error)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('bridge error')
    }
  }
  const server = createServer((req, res) => void bridge(req, res))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function serve(handler: AppHandler): Served | Promise<Served> {
  if (Bun !== undefined) return serveBun(Bun, handler)
  if (Deno !== undefined) return serveDeno(Deno, handler)
  return serveNode(handler)
}

function exit(code: number): never {
  if (Deno !== undefined) Deno.exit(code)
  process.exit(code)
}

// ---------------------------------------------------------------- the app

const dist = (path: string) => new URL(`../../dist/${path}`, import.meta.url).href
const { LoginManager, UserMixin } = (await import(dist('index.js'))) as typeof MainEntry
const { fetchLogin } = (await import(dist('adapters/fetch.js'))) as typeof FetchEntry
const { testLogin } = (await import(dist('testing/index.js'))) as typeof TestingEntry

class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly password: string | null,
  ) {
    super()
  }
}

const alice = new User('alice', 'wonderland')
const robot = new User('robot', null)
const users = new Map([alice, robot].map((u) => [u.id, u]))
const API_KEY = randomBytes(24).toString('hex')

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a)
  const y = new TextEncoder().encode(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function checkPassword(id: string | null, password: string | null): User | null {
  const user = id === null ? undefined : users.get(id)
  if (user?.password == null || password === null) return null
  return sameText(password, user.password) ? user : null
}

const manager = new LoginManager<User>({
  secret: randomBytes(32).toString('base64url'),
  userLoader: (id) => users.get(id) ?? null,
  requestLoader: (request) => {
    const key = request.header('x-api-key')
    return key !== undefined && sameText(key, API_KEY) ? robot : null
  },
  loginView: '/login',
})
const SESSION = manager.options.session.name
const REMEMBER = manager.options.remember.name

const login = fetchLogin(manager)
const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  })
const form = async (request: Request) =>
  new URLSearchParams((await request.text()).slice(0, 10_240))

const routes: Record<
  string,
  (request: Request, context: ClientContext) => Response | Promise<Response>
> = {
  '/login': login.handle(async (request, auth) => {
    if (request.method !== 'POST') return text('Log in here')
    const fields = await form(request)
    const user = checkPassword(fields.get('email'), fields.get('password'))
    if (user === null) return text('Bad login', 401)
    await auth.loginUser(user, { remember: fields.get('remember') === 'on' })
    return new Response(null, { status: 303, headers: { location: auth.nextUrl('/protected') } })
  }),
  '/protected': login.loginRequired((_request, auth) => text(`Logged in as: ${auth.user.id}`)),
  '/fresh': login.freshLoginRequired((_request, auth) => text(`Fresh login: ${auth.user.id}`)),
  '/confirm': login.loginRequired(async (request, auth) => {
    if (request.method !== 'POST') return text('Method Not Allowed', 405)
    const fields = await form(request)
    if (checkPassword(auth.user.id, fields.get('password')) === null) return text('Bad login', 401)
    await auth.confirmLogin()
    return text('Confirmed')
  }),
  // Exempt methods (OPTIONS) are not redirected: with nobody logged in the guard answers 204
  // itself, and this handler runs only for a logged-in user (or a method that is not exempt).
  '/preflight': login.loginRequired(
    () => new Response(null, { status: 204, headers: { allow: 'GET, OPTIONS' } }),
  ),
  '/logout': login.handle(async (_request, auth) => {
    await auth.logoutUser()
    return text('Logged out')
  }),
  '/flash': login.handle((_request, auth) => json(auth.consumeFlashes())),
  '/whoami': login.handle(async (_request, auth) => {
    const user = await auth.getUser()
    return json({
      id: user?.id ?? null,
      fresh: await auth.isFresh(),
      remembered: await auth.isRemembered(),
      address: auth.request.clientAddress ?? null,
    })
  }),
}

const app: AppHandler = async (request, context) => {
  const route = routes[new URL(request.url).pathname]
  if (route === undefined) return text('Not Found', 404)
  try {
    return await route(request, context)
  } catch (error) {
    console.error(`# ${request.method} ${request.url} threw:`, error)
    return text('Internal Server Error', 500)
  }
}

// ---------------------------------------------------------------- client

/** A browser's cookie jar, reduced to what the scenarios need (one host, every path '/'). */
class Jar {
  readonly #cookies = new Map<string, { value: string; persistent: boolean }>()

  store(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      let persistent = false
      let expired = false
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim())
        if (key.toLowerCase() === 'max-age') {
          persistent = true
          expired = Number(val) <= 0
        } else if (key.toLowerCase() === 'expires' && !/max-age/i.test(line)) {
          persistent = true
          expired = Date.parse(val) <= Date.now()
        }
      }
      if (expired || value === '') this.#cookies.delete(name)
      else this.#cookies.set(name, { value, persistent })
    }
  }
  get(name: string): string | undefined {
    return this.#cookies.get(name)?.value
  }
  set(name: string, value: string): void {
    const cookie = this.#cookies.get(name)
    this.#cookies.set(name, { value, persistent: cookie?.persistent ?? false })
  }
  has(name: string): boolean {
    return this.#cookies.has(name)
  }
  /** Closes the browser: cookies without Max-Age/Expires are gone. */
  restart(): void {
    for (const [name, cookie] of this.#cookies) if (!cookie.persistent) this.#cookies.delete(name)
  }
  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined
    return [...this.#cookies].map(([name, c]) => `${name}=${c.value}`).join('; ')
  }
}

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: string
  readonly setCookies: readonly string[]
  /** The Set-Cookie line for one cookie name, if the response set it. */
  cookie(name: string): string | undefined
}

interface Send {
  method?: string
  jar?: Jar
  headers?: Record<string, string>
  form?: Record<string, string>
}

let origin = ''
const serverErrors: string[] = []

async function send(path: string, options: Send = {}): Promise<Reply> {
  const headers = new Headers(options.headers)
  const cookie = options.jar?.header()
  if (cookie !== undefined && !headers.has('cookie')) headers.set('cookie', cookie)
  const init: RequestInit = { method: options.method ?? 'GET', headers, redirect: 'manual' }
  if (options.form !== undefined) {
    init.method = options.method ?? 'POST'
    init.body = new URLSearchParams(options.form)
  }
  const response = await fetch(origin + path, init)
  const body = await response.text()
  const setCookies = response.headers.getSetCookie()
  options.jar?.store(setCookies)
  if (response.status >= 500) serverErrors.push(`${init.method} ${path} → ${response.status}`)
  return {
    status: response.status,
    headers: response.headers,
    body,
    setCookies,
    cookie: (name) => setCookies.find((line) => line.startsWith(`${name}=`)),
  }
}

const logIn = (jar: Jar, extra: Record<string, string> = {}, query = '') =>
  send(`/login${query}`, { jar, form: { email: 'alice', password: 'wonderland', ...extra } })

const isDeletion = (line: string | undefined) =>
  line !== undefined && (/;\s*max-age=0\b/i.test(line) || /expires=thu, 01 jan 1970/i.test(line))

// ---------------------------------------------------------------- scenarios

let failures: string[] = []
let passed = 0
let failed = 0

function check(condition: unknown, message: string): void {
  if (!condition) failures.push(message)
}

const show = (value: unknown) => JSON.stringify(value)

async function scenario(name: string, run: () => Promise<void>): Promise<void> {
  failures = []
  try {
    await run()
  } catch (error) {
    failures.push(`threw ${error instanceof Error ? (error.stack ?? error.message) : show(error)}`)
  }
  if (failures.length === 0) {
    passed++
    console.log(`ok ${name}`)
  } else {
    failed++
    console.log(`not ok ${name}: ${failures.join('; ').replace(/\s*\n\s*/g, ' | ')}`)
  }
}

function summary(): string {
  return `${passed} passed, ${failed} failed`
}

async function scenarios(): Promise<void> {
  await scenario('anonymous /protected redirects to /login with next', async () => {
    const r = await send('/protected', { headers: { accept: 'text/html' } })
    check(r.status === 302, `status ${r.status}, expected 302`)
    const location = r.headers.get('location')
    check(location === '/login?next=%2Fprotected', `location ${show(location)}`)
  })

  await scenario('the redirect flashes the login message once', async () => {
    const jar = new Jar()
    await send('/protected', { jar })
    check(jar.has(SESSION), 'no session cookie was set to carry the flash')
    const first = await send('/flash', { jar })
    const messages = (JSON.parse(first.body) as { message: string }[]).map((f) => f.message)
    check(
      messages.length === 1 && messages[0] === 'Please log in to access this page.',
      `flashes ${show(messages)}`,
    )
    const second = await send('/flash', { jar })
    check(second.body === '[]', `flashes after consuming: ${second.body}`)
  })

  await scenario('form login answers 303 and opens /protected', async () => {
    const jar = new Jar()
    const r = await logIn(jar)
    check(r.status === 303, `login status ${r.status}, expected 303`)
    check(r.headers.get('location') === '/protected', `location ${r.headers.get('location')}`)
    const page = await send('/protected', { jar })
    check(page.status === 200, `/protected status ${page.status}`)
    check(page.body === 'Logged in as: alice', `/protected body ${show(page.body)}`)
    const fresh = await send('/fresh', { jar })
    check(fresh.status === 200, `/fresh after a password login: ${fresh.status}`)
  })

  await scenario('login follows a safe next and refuses an external one', async () => {
    const safe = await logIn(new Jar(), {}, '?next=%2Fwhoami%3Fx%3D1')
    check(
      safe.headers.get('location') === '/whoami?x=1',
      `safe next → ${safe.headers.get('location')}`,
    )
    const evil = await logIn(new Jar(), {}, '?next=https%3A%2F%2Fevil.example%2F')
    check(
      evil.headers.get('location') === '/protected',
      `evil next → ${evil.headers.get('location')}`,
    )
    const slashes = await logIn(new Jar(), {}, '?next=%2F%2Fevil.example')
    check(
      slashes.headers.get('location') === '/protected',
      `//evil → ${slashes.headers.get('location')}`,
    )
  })

  await scenario('a wrong password logs nobody in', async () => {
    const jar = new Jar()
    const r = await logIn(jar, { password: 'wonderlane' })
    check(r.status === 401, `status ${r.status}, expected 401`)
    check(!jar.has(SESSION), 'a session cookie was set')
    check((await send('/protected', { jar })).status === 302, '/protected let the visitor in')
  })

  await scenario(
    'the session cookie is HttpOnly, Secure, SameSite=Lax, Path=/, uncached',
    async () => {
      const r = await logIn(new Jar())
      const line = r.cookie(SESSION)
      check(line !== undefined, `no ${SESSION} cookie in ${show(r.setCookies)}`)
      const attributes = (line ?? '').split(';').map((a) => a.trim().toLowerCase())
      check(attributes.includes('httponly'), `no HttpOnly: ${line}`)
      check(attributes.includes('secure'), `no Secure: ${line}`)
      check(attributes.includes('samesite=lax'), `no SameSite=Lax: ${line}`)
      check(attributes.includes('path=/'), `no Path=/: ${line}`)
      check(
        !attributes.some((a) => a.startsWith('domain=')),
        `a Domain on a __Host- cookie: ${line}`,
      )
      check(
        !attributes.some((a) => a.startsWith('max-age=')),
        `the session cookie persists: ${line}`,
      )
      const vary = (r.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase())
      check(vary.includes('cookie'), `Vary ${show(r.headers.get('vary'))}`)
      const cacheControl = r.headers.get('cache-control')
      check(cacheControl === 'private, no-store', `Cache-Control ${show(cacheControl)}`)
    },
  )

  await scenario('remember-me survives a browser restart', async () => {
    const jar = new Jar()
    const r = await logIn(jar, { remember: 'on' })
    const line = r.cookie(REMEMBER)
    check(line !== undefined, `no ${REMEMBER} cookie in ${show(r.setCookies)}`)
    check(/;\s*max-age=2592000\b/i.test(line ?? ''), `remember cookie not persistent: ${line}`)
    jar.restart()
    check(!jar.has(SESSION) && jar.has(REMEMBER), 'restart kept the wrong cookies')
    const page = await send('/protected', { jar })
    check(page.status === 200, `/protected after restart: ${page.status}`)
    check(page.body === 'Logged in as: alice', `body ${show(page.body)}`)
    check(page.cookie(SESSION) !== undefined, 'the restored login did not get a session cookie')
    const who = JSON.parse((await send('/whoami', { jar })).body) as { remembered: boolean }
    check(who.remembered === true, `isRemembered() ${show(who)}`)
  })

  await scenario('a plain login ends with the browser session', async () => {
    const jar = new Jar()
    const r = await logIn(jar)
    check(
      r.cookie(REMEMBER) === undefined,
      `a remember cookie without remember: ${r.cookie(REMEMBER)}`,
    )
    check((await send('/protected', { jar })).status === 200, 'not logged in before the restart')
    jar.restart()
    const page = await send('/protected', { jar })
    check(page.status === 302, `/protected after restart: ${page.status}, expected 302`)
  })

  await scenario('a remembered login is not fresh until confirmed', async () => {
    const jar = new Jar()
    await logIn(jar, { remember: 'on' })
    jar.restart()
    const stale = await send('/fresh', { jar })
    check(stale.status === 401, `/fresh after a restore: ${stale.status}, expected 401`)
    check(stale.body === 'Unauthorized', `/fresh body ${show(stale.body)}`)
    const who = JSON.parse((await send('/whoami', { jar })).body) as { id: string; fresh: boolean }
    check(who.id === 'alice' && who.fresh === false, `whoami ${show(who)}`)
    const wrong = await send('/confirm', { jar, form: { password: 'nope' } })
    check(wrong.status === 401, `confirm with a wrong password: ${wrong.status}`)
    check((await send('/fresh', { jar })).status === 401, 'a wrong password made the login fresh')
    const confirm = await send('/confirm', { jar, form: { password: 'wonderland' } })
    check(confirm.status === 200, `confirm: ${confirm.status}`)
    check(confirm.cookie(SESSION) !== undefined, 'confirming did not re-issue the session')
    const fresh = await send('/fresh', { jar })
    check(fresh.status === 200, `/fresh after confirming: ${fresh.status}`)
    check(fresh.body === 'Fresh login: alice', `/fresh body ${show(fresh.body)}`)
  })

  await scenario('a tampered session cookie is anonymous, not an error', async () => {
    const jar = new Jar()
    await logIn(jar)
    const value = jar.get(SESSION) ?? ''
    check(value.length > 20, `session cookie value ${show(value)}`)
    const at = Math.floor(value.length / 2)
    jar.set(SESSION, value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1))
    const who = await send('/whoami', { jar })
    check(who.status === 200, `/whoami status ${who.status}`)
    check((JSON.parse(who.body) as { id: unknown }).id === null, `whoami ${who.body}`)
    check(isDeletion(who.cookie(SESSION)), `rejected cookie not deleted: ${show(who.setCookies)}`)
    const page = await send('/protected', { jar })
    check(page.status === 302, `/protected with a tampered cookie: ${page.status}`)
  })

  await scenario('a tampered remember cookie restores nobody and is deleted', async () => {
    const jar = new Jar()
    await logIn(jar, { remember: 'on' })
    jar.restart()
    const value = jar.get(REMEMBER) ?? ''
    const at = Math.floor(value.length / 2)
    jar.set(REMEMBER, value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1))
    const page = await send('/protected', { jar })
    check(page.status === 302, `/protected with a tampered remember cookie: ${page.status}`)
    check(
      isDeletion(page.cookie(REMEMBER)),
      `remember cookie not deleted: ${show(page.setCookies)}`,
    )
  })

  await scenario('the x-api-key request loader logs in without persisting', async () => {
    const jar = new Jar()
    const r = await send('/protected', { jar, headers: { 'x-api-key': API_KEY } })
    check(r.status === 200, `with the key: ${r.status}`)
    check(r.body === 'Logged in as: robot', `body ${show(r.body)}`)
    check(r.setCookies.length === 0, `cookies set: ${show(r.setCookies)}`)
    const after = await send('/protected', { jar })
    check(after.status === 302, `without the key afterwards: ${after.status}, expected 302`)
    const wrong = await send('/protected', {
      headers: { 'x-api-key': `${API_KEY}0`, accept: '*/*' },
    })
    check(wrong.status === 302, `with a wrong key: ${wrong.status}`)
  })

  await scenario('logout deletes the cookies and closes /protected', async () => {
    const jar = new Jar()
    await logIn(jar, { remember: 'on' })
    check(jar.has(SESSION) && jar.has(REMEMBER), 'login did not set both cookies')
    const r = await send('/logout', { jar })
    check(r.status === 200, `logout status ${r.status}`)
    check(isDeletion(r.cookie(SESSION)), `session cookie not deleted: ${show(r.setCookies)}`)
    check(isDeletion(r.cookie(REMEMBER)), `remember cookie not deleted: ${show(r.setCookies)}`)
    check(!jar.has(SESSION) && !jar.has(REMEMBER), `jar still holds ${jar.header()}`)
    const page = await send('/protected', { jar })
    check(page.status === 302, `/protected after logout: ${page.status}`)
    jar.restart()
    check((await send('/protected', { jar })).status === 302, 'logged in again after a restart')
  })

  await scenario('JSON and XHR clients get 401 instead of a redirect', async () => {
    const r = await send('/protected', { headers: { accept: 'application/json' } })
    check(r.status === 401, `Accept: application/json → ${r.status}, expected 401`)
    check(r.headers.get('location') === null, `a Location: ${r.headers.get('location')}`)
    check(
      (r.headers.get('content-type') ?? '').startsWith('application/json'),
      `content-type ${r.headers.get('content-type')}`,
    )
    check(r.body === '{"error":"Unauthorized"}', `body ${show(r.body)}`)
    const xhr = await send('/protected', { headers: { 'x-requested-with': 'XMLHttpRequest' } })
    check(xhr.status === 401, `X-Requested-With → ${xhr.status}, expected 401`)
  })

  await scenario('testLogin cookies are accepted by the server', async () => {
    const cookie = await testLogin(manager, alice)
    const page = await send('/protected', { headers: { cookie } })
    check(page.status === 200, `/protected with testLogin: ${page.status}`)
    check(page.body === 'Logged in as: alice', `body ${show(page.body)}`)
    const fresh = await send('/fresh', { headers: { cookie } })
    check(fresh.status === 200, `/fresh with testLogin: ${fresh.status}`)
    const stale = await send('/fresh', {
      headers: { cookie: await testLogin(manager, alice, { fresh: false }) },
    })
    check(stale.status === 401, `/fresh with testLogin({ fresh: false }): ${stale.status}`)
    const remember = (await testLogin(manager, alice, { remember: true }))
      .split('; ')
      .find((c) => c.startsWith(`${REMEMBER}=`))
    check(remember !== undefined, 'testLogin({ remember: true }) gave no remember cookie')
    const restored = await send('/protected', { headers: { cookie: remember ?? '' } })
    check(restored.status === 200, `/protected with the remember cookie alone: ${restored.status}`)
  })

  await scenario('the server hands the client address to the auth object', async () => {
    const who = JSON.parse((await send('/whoami')).body) as { address: unknown }
    check(
      who.address === '127.0.0.1' || who.address === '::ffff:127.0.0.1',
      `clientAddress ${show(who.address)}`,
    )
  })

  await scenario('basic session protection demotes a session moved to another client', async () => {
    const jar = new Jar()
    const agent = { 'user-agent': 'scenario-browser/1' }
    await logIn(jar)
    check((await send('/fresh', { jar })).status === 200, 'fresh after login (default agent)')
    const moved = await send('/protected', { jar, headers: agent })
    check(moved.status === 200, `basic protection logged the user out: ${moved.status}`)
    const fresh = await send('/fresh', { jar, headers: agent })
    check(fresh.status === 401, `a moved session is still fresh: ${fresh.status}`)
  })

  await scenario('OPTIONS passes the guard; unknown paths are 404', async () => {
    const options = await send('/preflight', { method: 'OPTIONS' })
    check(options.status === 204, `OPTIONS /preflight: ${options.status}, expected 204`)
    const get = await send('/preflight')
    check(get.status === 302, `GET /preflight: ${get.status}, expected 302`)
    check((await send('/nowhere')).status === 404, 'unknown path')
  })

  await scenario('no response was a 5xx', async () => {
    check(serverErrors.length === 0, serverErrors.join(', '))
  })
}

// ---------------------------------------------------------------- main

const WATCHDOG_MS = 45_000
const watchdog = setTimeout(() => {
  failed++
  console.log(`not ok watchdog: the scenarios did not finish within ${WATCHDOG_MS / 1000} s`)
  console.log(summary())
  exit(1)
}, WATCHDOG_MS)

console.log(`# login-manager Fetch adapter scenarios on ${RUNTIME}`)
let server: Served | undefined
try {
  server = await serve(app)
  origin = server.origin
  await scenarios()
} catch (error) {
  failed++
  console.log(`not ok setup: ${error instanceof Error ? error.message : show(error)}`)
} finally {
  await server?.stop()
}
clearTimeout(watchdog)
console.log(summary())
exit(failed > 0 ? 1 : 0)
