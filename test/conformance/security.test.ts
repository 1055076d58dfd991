/**
 * Adversarial inputs over HTTP, against every adapter in `./adapters/` (reference/security.md
 * §1.2-1.6, §2.2-2.6, §3.1-3.8). The rules throughout:
 * - no 5xx, ever: a bad cookie, header or `next` never breaks a request;
 * - the request goes on as anonymous, and `cookieRejected` says why (with the right reason);
 * - a bad session cookie is deleted in the response when the session was read.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, it } from 'node:test'
import {
  type CookieRejection,
  encodeCookie,
  LoginManager,
  type LoginManagerOptions,
  redirect,
  type UserId,
} from 'login-manager'
import { type ClientResponse, type ParsedSetCookie, TestClient } from '../support/client.ts'
import { type EventSpy, listen, notch, steve, USERS, type User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import { type AdapterHarness, type AppSpec, type RouteDef, withApp } from './harness.ts'

// ------------------------------------------------------------------------------------ fixtures

const SECRET = 'security-suite-secret-7Hq2Wm9Zx4Lp1Rt8Vb3Nc6'
const OLD_SECRET = 'security-suite-old-secret-2Jd5Kf8Gh1Qw4Ez7Xc'
const NEW_SECRET = 'security-suite-new-secret-9Ty3Ui6Op2As5Df8Gh'
const OTHER_SECRET = 'security-suite-another-app-4Mn7Bv1Cx5Zl8Kj2H'
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'

type Options = LoginManagerOptions<User, UserId>
type Manager = LoginManager<User, UserId>
type Route = RouteDef<User>
type Spec = AppSpec<User> & { manager: Manager }
type Rejected = EventSpy<{ cookie: 'session' | 'remember'; reason: CookieRejection }>

/** Numeric ids as numbers, the string id '佐藤' as itself. */
const loadUser = (id: UserId): User | null => USERS.get(Number(id)) ?? USERS.get(String(id)) ?? null

function clock(start = Date.now()) {
  let time = start
  return {
    now: () => time,
    advance(seconds: number) {
      time += seconds * 1000
    },
    set(ms: number) {
      time = ms
    },
  }
}

function routes(): Route[] {
  return [
    { path: '/', handler: () => 'Welcome!' },
    { path: '/login', handler: async ({ auth }) => String(await auth.loginUser(notch)) },
    {
      path: '/login-remember',
      handler: async ({ auth }) => String(await auth.loginUser(notch, { remember: true })),
    },
    {
      path: '/login-next',
      handler: async ({ auth }) => {
        await auth.loginUser(notch)
        return redirect(auth.nextUrl('/home'))
      },
    },
    {
      path: '/username',
      handler: async ({ auth }) => {
        const user = await auth.getUser()
        return user?.isAuthenticated ? user.name : 'Anonymous'
      },
    },
    { path: '/logout', handler: async ({ auth }) => String(await auth.logoutUser()) },
    { path: '/secret', guard: 'login', handler: () => 'the secret' },
    // Reads the session without loading the user.
    { path: '/read', handler: ({ auth }) => JSON.stringify(auth.session.get('x') ?? null) },
  ]
}

function app(overrides: Partial<Options> = {}, extra: Route[] = []): Spec {
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: loadUser,
    loginView: '/login',
    ...overrides,
  })
  return { manager, routes: [...routes(), ...extra] }
}

function cookieIn(res: ClientResponse, name: string): ParsedSetCookie | undefined {
  return res.setCookies.find((c) => c.name === name)
}

function assertDeletes(res: ClientResponse, name: string, label: string): void {
  const cookie = cookieIn(res, name)
  assert.ok(
    cookie !== undefined && cookie.value === '' && cookie.maxAge === 0,
    `${label}: expected ${name} to be deleted, got ${cookie?.raw ?? 'no Set-Cookie'}`,
  )
}

function assertVaryCookie(headers: Headers, label: string): void {
  const vary = (headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase())
  assert.ok(vary.includes('cookie') || vary.includes('*'), `${label}: Vary is ${vary.join(',')}`)
}

function assertNo5xx(status: number, label: string): void {
  assert.ok(status > 0 && status < 500, `${label}: answered ${status}`)
}

/** Replaces the character at `index` with another one that keeps a base64url tail canonical. */
function flip(value: string, index: number): string {
  const replacement = [...'AQgw'].find((r) => r !== value[index]) as string
  return value.slice(0, index) + replacement + value.slice(index + 1)
}

/** The positions of a sealed value `v1.<keyId>.<body>` worth tampering with. */
function tamperPositions(
  value: string,
): [label: string, index: number, reasons: CookieRejection[]][] {
  const bodyStart = 'v1.'.length + 8 + 1
  return [
    ['prefix', 0, ['malformed']],
    ['prefix separator', 2, ['malformed']],
    ['key id', 3, ['unknown-key']],
    ['key id end', 10, ['unknown-key']],
    ['key id separator', 11, ['malformed']],
    ['body start (IV)', bodyStart, ['decrypt']],
    ['body middle', Math.floor((bodyStart + value.length) / 2), ['decrypt']],
    ['body end (tag)', value.length - 1, ['decrypt']],
  ]
}

async function loggedInCookies(
  c: TestClient,
  path = '/login-remember',
): Promise<{ session: string; remember: string | undefined }> {
  const res = await c.get(path)
  assert.equal(res.status, 200)
  const session = c.jar.get(SESSION)?.value
  assert.ok(session !== undefined, 'the login set no session cookie')
  return { session, remember: c.jar.get(REMEMBER)?.value }
}

/**
 * Sends `cookie` to `/username` and checks the request went on as anonymous, that exactly one
 * `cookieRejected` named the cookie with one of `reasons`, and that the cookie was deleted.
 */
async function expectRejected(
  spec: Spec,
  c: TestClient,
  cookie: string,
  which: 'session' | 'remember',
  reasons: readonly CookieRejection[],
  label: string,
): Promise<ClientResponse> {
  const rejected: Rejected = listen(spec.manager, 'cookieRejected')
  try {
    const res = await c.get('/username', { headers: { cookie } })
    assertNo5xx(res.status, label)
    assert.equal(res.status, 200, label)
    assert.equal(res.body, 'Anonymous', label)
    assert.equal(rejected.count, 1, `${label}: ${rejected.count} cookieRejected events`)
    const [event] = rejected.calls
    assert.equal(event?.cookie, which, label)
    assert.ok(
      reasons.includes(event.reason),
      `${label}: reason '${event.reason}', expected ${reasons.join(' or ')}`,
    )
    assertDeletes(res, which === 'session' ? SESSION : REMEMBER, label)
    assertVaryCookie(res.headers, label)
    return res
  } finally {
    rejected.off()
  }
}

async function withServer(
  adapter: AdapterHarness,
  spec: Spec,
  body: (baseUrl: string) => Promise<void>,
): Promise<void> {
  const running = await adapter.start(spec)
  try {
    await body(running.baseUrl)
  } finally {
    await running.close()
  }
}

interface RawResponse {
  status: number
  headers: Map<string, string[]>
  body: string
}

/**
 * One GET over a bare socket, with a Cookie header of arbitrary bytes (fetch and node:http refuse
 * to send control characters). The response is read until the server closes the connection.
 */
function socketGet(baseUrl: string, path: string, cookie: Buffer): Promise<RawResponse> {
  const url = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname)
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      try {
        resolve(parseRaw(Buffer.concat(chunks)))
      } catch (error) {
        reject(error)
      }
    })
    socket.write(
      Buffer.concat([
        Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\nCookie: `),
        cookie,
        Buffer.from('\r\n\r\n'),
      ]),
    )
  })
}

function parseRaw(raw: Buffer): RawResponse {
  const text = raw.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) throw new Error(`no complete response: ${JSON.stringify(text.slice(0, 200))}`)
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
  const status = Number(statusLine.split(' ')[1])
  const headers = new Map<string, string[]>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()])
  }
  let body = text.slice(end + 4)
  if (headers.get('transfer-encoding')?.[0]?.toLowerCase() === 'chunked') {
    let decoded = ''
    let rest = body
    for (;;) {
      const lineEnd = rest.indexOf('\r\n')
      const size = Number.parseInt(rest.slice(0, lineEnd), 16)
      if (!Number.isFinite(size) || size === 0) break
      decoded += rest.slice(lineEnd + 2, lineEnd + 2 + size)
      rest = rest.slice(lineEnd + 2 + size + 2)
    }
    body = decoded
  }
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8') }
}

/** `next` values that must never be followed. The framework decodes the query exactly once. */
const HOSTILE_NEXT: readonly string[] = [
  '//evil.com',
  '///evil.com',
  '////evil.com',
  '//evil.com/path?x=1#frag',
  '/\\evil.com',
  '\\\\evil.com',
  '\\/evil.com',
  '/\\/evil.com',
  'https://evil.com',
  'http://evil.com',
  'HTTPS://EVIL.COM/',
  'http:evil.com',
  'https:evil.com',
  'http:/evil.com',
  'https:///evil.com',
  'http:\\\\evil.com',
  'http://127.0.0.1\\@evil.com',
  'http://127.0.0.1@evil.com',
  'https://evil.com#@127.0.0.1',
  'evil.com',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'java\tscript:alert(1)',
  'javascript://evil.com/%0Aalert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  '%2F%2Fevil.com',
  '%5C%5Cevil.com',
  '/\t/evil.com',
  '/\n/evil.com',
  '/\r\n/evil.com',
  '\t//evil.com',
  ' //evil.com',
  '\u0000//evil.com',
  '\u0008//evil.com',
  '\u200b//evil.com',
  '\u202e//evil.com',
  '／／evil.com',
  `//evil.com/${'a'.repeat(3000)}`,
  `/${'a'.repeat(10_000)}`,
]

// ------------------------------------------------------------------------------------ the suite

for (const adapter of adapters) {
  describe(adapter.name, () => {
    // ------------------------------------------------------------------ sealed session cookie
    describe('Sealed session cookie', () => {
      it('a tampered cookie is rejected at every position', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          for (const [label, index, reasons] of tamperPositions(session)) {
            const tampered = flip(session, index)
            assert.notEqual(tampered, session)
            await expectRejected(spec, c, `${SESSION}=${tampered}`, 'session', reasons, label)
          }
          // The genuine cookie still works.
          const ok = await c.get('/username', { headers: { cookie: `${SESSION}=${session}` } })
          assert.equal(ok.body, 'Notch')
        })
      })

      it('a truncated cookie is rejected', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          for (const cut of [1, 2, 3, 4, 16, session.length - 12, session.length - 3]) {
            const truncated = session.slice(0, session.length - cut)
            await expectRejected(
              spec,
              c,
              `${SESSION}=${truncated}`,
              'session',
              ['malformed', 'decrypt'],
              `cut ${cut}`,
            )
          }
        })
      })

      it('a cookie sealed by another app (another secret) is rejected', async () => {
        const other = app({ secret: OTHER_SECRET })
        let foreign = ''
        await withApp(adapter, other, async (c) => {
          foreign = (await loggedInCookies(c, '/login')).session
        })
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          await expectRejected(
            spec,
            c,
            `${SESSION}=${foreign}`,
            'session',
            ['unknown-key'],
            'foreign',
          )
        })
      })

      it('a cookie sealed under another cookie name with the same secret is rejected', async () => {
        const other = app({ session: { name: '__Host-other' } })
        let foreign = ''
        await withApp(adapter, other, async (c) => {
          await c.get('/login')
          foreign = c.jar.get('__Host-other')?.value ?? ''
          assert.notEqual(foreign, '')
        })
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          await expectRejected(spec, c, `${SESSION}=${foreign}`, 'session', ['decrypt'], 'renamed')
        })
      })

      it('key rotation: an old cookie is accepted and re-sealed; once removed, rejected', async () => {
        const old = app({ secret: OLD_SECRET })
        const rotating = app({ secret: [NEW_SECRET, OLD_SECRET] })
        const current = app({ secret: [NEW_SECRET] })
        let oldCookies = { session: '', remember: '' }
        await withApp(adapter, old, async (c) => {
          const issued = await loggedInCookies(c)
          oldCookies = { session: issued.session, remember: issued.remember ?? '' }
        })
        let currentKeyId = ''
        await withApp(adapter, current, async (c) => {
          currentKeyId = (await loggedInCookies(c, '/login')).session.slice(3, 11)
        })
        assert.notEqual(oldCookies.session.slice(3, 11), currentKeyId)

        let resealed = { session: '', remember: '' }
        await withApp(adapter, rotating, async (c) => {
          const res = await c.get('/username', {
            headers: { cookie: `${SESSION}=${oldCookies.session}` },
          })
          assert.equal(res.body, 'Notch')
          const session = cookieIn(res, SESSION)
          assert.ok(session !== undefined && session.value !== '', 'the session was not re-sealed')
          assert.equal(session.value.slice(3, 11), currentKeyId, 'not re-sealed with the new key')

          const fromRemember = await c.get('/username', {
            headers: { cookie: `${REMEMBER}=${oldCookies.remember}` },
          })
          assert.equal(fromRemember.body, 'Notch')
          const remember = cookieIn(fromRemember, REMEMBER)
          assert.ok(remember !== undefined && remember.value !== '', 'remember not re-sealed')
          assert.equal(remember.value.slice(3, 11).length, 8)
          assert.notEqual(remember.value.slice(3, 11), oldCookies.remember.slice(3, 11))
          resealed = { session: session.value, remember: remember.value }
        })

        await withApp(adapter, current, async (c) => {
          const res = await c.get('/username', {
            headers: { cookie: `${SESSION}=${resealed.session}` },
          })
          assert.equal(res.body, 'Notch', 'the re-sealed session does not open with the new key')
          const rem = await c.get('/username', {
            headers: { cookie: `${REMEMBER}=${resealed.remember}` },
          })
          assert.equal(rem.body, 'Notch', 'the re-sealed remember cookie does not open')
          await expectRejected(
            current,
            c,
            `${SESSION}=${oldCookies.session}`,
            'session',
            ['unknown-key'],
            'old session after the old secret was removed',
          )
          await expectRejected(
            current,
            c,
            `${REMEMBER}=${oldCookies.remember}`,
            'remember',
            ['unknown-key'],
            'old remember cookie after the old secret was removed',
          )
        })
      })

      it('idle timeout: a session unused for too long is rejected, even when replayed', async () => {
        const time = clock()
        const spec = app({ now: time.now, session: { idleTimeout: 600 } })
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          // Activity inside the window keeps the session alive.
          time.advance(500)
          assert.equal((await c.get('/username')).body, 'Notch')
          time.advance(500)
          assert.equal((await c.get('/username')).body, 'Notch')
          const current = c.jar.get(SESSION)?.value ?? ''
          assert.notEqual(current, session, 'activity did not renew the session')
          // The original cookie, replayed after its idle window, is refused.
          await expectRejected(
            spec,
            c,
            `${SESSION}=${session}`,
            'session',
            ['idle-timeout'],
            'replay',
          )
          time.advance(601)
          await expectRejected(
            spec,
            c,
            `${SESSION}=${current}`,
            'session',
            ['idle-timeout'],
            'idle',
          )
          // And it stays refused: the expiry lives in the sealed payload, not in the browser.
          await expectRejected(
            spec,
            c,
            `${SESSION}=${current}`,
            'session',
            ['idle-timeout'],
            'again',
          )
        })
      })

      it('absolute timeout: an active session still ends', async () => {
        const time = clock()
        const spec = app({ now: time.now, session: { idleTimeout: 600, absoluteTimeout: 1800 } })
        await withApp(adapter, spec, async (c) => {
          await loggedInCookies(c, '/login')
          for (let i = 0; i < 3; i++) {
            time.advance(500)
            assert.equal((await c.get('/username')).body, 'Notch', `request ${i}`)
          }
          time.advance(500)
          const current = c.jar.get(SESSION)?.value ?? ''
          await expectRejected(
            spec,
            c,
            `${SESSION}=${current}`,
            'session',
            ['absolute-timeout'],
            'absolute',
          )
        })
      })

      it('future-dated: a cookie from more than 60 s in the future is rejected', async () => {
        const time = clock()
        const spec = app({ now: time.now })
        await withApp(adapter, spec, async (c) => {
          const start = time.now()
          const { session } = await loggedInCookies(c, '/login')
          time.set(start - 30_000)
          const skew = await c.get('/username', { headers: { cookie: `${SESSION}=${session}` } })
          assert.equal(skew.body, 'Notch', 'a 30 s skew is tolerated')
          time.set(start - 120_000)
          await expectRejected(
            spec,
            c,
            `${SESSION}=${session}`,
            'session',
            ['future-dated'],
            'clock moved back 120 s',
          )
        })
      })

      it('an oversized cookie is rejected before any cryptography', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          const huge = [
            `v1.${'A'.repeat(4200)}`,
            `${session}${'A'.repeat(4200 - session.length)}`,
            'x'.repeat(5000),
          ]
          for (const value of huge) {
            await expectRejected(spec, c, `${SESSION}=${value}`, 'session', ['oversized'], 'huge')
          }
          await expectRejected(
            spec,
            c,
            `${REMEMBER}=v1.${'A'.repeat(4200)}`,
            'remember',
            ['oversized'],
            'huge remember',
          )
        })
      })

      it('purpose binding: a session value as remember cookie and the reverse are rejected', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session, remember } = await loggedInCookies(c)
          assert.ok(remember !== undefined)
          await expectRejected(
            spec,
            c,
            `${REMEMBER}=${session}`,
            'remember',
            ['unknown-key', 'decrypt'],
            'session value in the remember cookie',
          )
          await expectRejected(
            spec,
            c,
            `${SESSION}=${remember}`,
            'session',
            ['unknown-key', 'decrypt'],
            'remember value in the session cookie',
          )
        })
      })

      it('an unsigned JSON cookie never authenticates', async () => {
        const spec = app()
        const b64 = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url')
        const now = Math.floor(Date.now() / 1000)
        const forged = [
          b64({ u: '1' }),
          b64({ c: now, t: now, a: { u: 1, f: 1 } }),
          `v1.AAAAAAAA.${b64({ c: now, t: now, a: { u: 1 } })}`,
          `v0.${b64({ u: '1' })}`,
          '{"u":"1"}',
          '1',
        ]
        await withApp(adapter, spec, async (c) => {
          for (const value of forged) {
            await expectRejected(
              spec,
              c,
              `${SESSION}=${value}`,
              'session',
              ['malformed', 'unknown-key'],
              `session ${value}`,
            )
            await expectRejected(
              spec,
              c,
              `${REMEMBER}=${value}`,
              'remember',
              ['malformed', 'unknown-key'],
              `remember ${value}`,
            )
          }
        })
      })

      it('repeated cookie names: the first wins, a second one never logs in', async () => {
        const spec = app({}, [
          {
            path: '/login-steve',
            handler: async ({ auth }) => String(await auth.loginUser(steve)),
          },
        ])
        await withServer(adapter, spec, async (baseUrl) => {
          const notchCookie = (await loggedInCookies(new TestClient(baseUrl), '/login')).session
          const asSteve = new TestClient(baseUrl)
          await asSteve.get('/login-steve')
          const steveCookie = asSteve.jar.get(SESSION)?.value ?? ''
          assert.notEqual(steveCookie, '')
          const forged = flip(notchCookie, notchCookie.length - 5)
          const c = new TestClient(baseUrl)
          const send = (cookie: string) => c.get('/username', { headers: { cookie } })

          const rejected = listen(spec.manager, 'cookieRejected')
          assert.equal(
            (await send(`${SESSION}=${notchCookie}; ${SESSION}=${forged}`)).body,
            'Notch',
          )
          rejected.heardNone()
          assert.equal(
            (await send(`${SESSION}=${steveCookie}; ${SESSION}=${notchCookie}`)).body,
            'Steve',
          )
          // A cookie tossed in front of the real one is what the app sees: never a login.
          const tossed = await send(`${SESSION}=${forged}; ${SESSION}=${notchCookie}`)
          assert.equal(tossed.body, 'Anonymous', 'the second (valid) cookie was used')
          rejected.heardOne(({ reason }) => reason === 'decrypt')
          rejected.off()
          const emptyFirst = await send(`${SESSION}=; ${SESSION}=${notchCookie}`)
          assert.equal(emptyFirst.body, 'Anonymous', 'an empty first cookie fell through')
        })
      })

      it('a bad cookie on a request that never reads the session is left alone', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const rejected = listen(spec.manager, 'cookieRejected')
          const res = await c.get('/', { headers: { cookie: `${SESSION}=garbage; ${REMEMBER}=x` } })
          assert.equal(res.body, 'Welcome!')
          assert.deepEqual(res.setCookies, [])
          rejected.heardNone()
        })
      })

      it('cookie values are never percent-decoded; RFC 6265 quotes are accepted', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          const quoted = await c.get('/username', {
            headers: { cookie: `${SESSION}="${session}"` },
          })
          assert.equal(quoted.body, 'Notch')
          const encoded = session.replace('.', '%2E')
          await expectRejected(spec, c, `${SESSION}=${encoded}`, 'session', ['malformed'], '%2E')
        })
      })

      it('cookie names in lookalike forms never match', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          const lookalikes = [
            `%5F%5FHost-session=${session}`,
            `__%48ost-session=${session}`,
            `"${SESSION}"=${session}`,
            `=${SESSION}=${session}`,
            `__host-session=${session}`,
            `__HOST-SESSION=${session}`,
            `..Host-session=${session}`,
            `_[Host-session=${session}`,
            `__Host-session_=${session}`,
            `x${SESSION}=${session}`,
            `${SESSION.slice(0, -1)}=${session}`,
          ]
          const rejected = listen(spec.manager, 'cookieRejected')
          for (const cookie of lookalikes) {
            const res = await c.get('/username', { headers: { cookie } })
            assertNo5xx(res.status, cookie)
            assert.equal(res.body, 'Anonymous', cookie)
            assert.equal(cookieIn(res, SESSION), undefined, cookie)
          }
          rejected.heardNone()
        })
      })

      it("a cookie named '__proto__' pollutes nothing", async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          const before = Object.getOwnPropertyNames(Object.prototype).sort()
          const headers = [
            `__proto__=polluted; constructor=x; prototype=y; toString=z; ${SESSION}=${session}`,
            `__proto__[polluted]=1; __proto__.polluted=1; hasOwnProperty=1; ${SESSION}=${session}`,
          ]
          for (const cookie of headers) {
            const res = await c.get('/username', { headers: { cookie } })
            assert.equal(res.status, 200, cookie)
            assert.equal(res.body, 'Notch', cookie)
          }
          const alone = await c.get('/username', { headers: { cookie: `__proto__=${session}` } })
          assert.equal(alone.body, 'Anonymous')
          assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before)
          assert.equal(({} as Record<string, unknown>).polluted, undefined)
          assert.equal(Object.prototype.toString.call({}), '[object Object]')
        })
      })

      it('non-ASCII and control bytes in the Cookie header: no 5xx', async () => {
        const spec = app()
        await withServer(adapter, spec, async (baseUrl) => {
          const c = new TestClient(baseUrl)
          const { session } = await loggedInCookies(c, '/login')
          const bytes = (s: string) => Buffer.from(s, 'latin1')
          // Bytes that reach the app (obs-text, HTAB): the valid session still works.
          const reaching: [string, Buffer][] = [
            ['latin-1 bytes in another cookie', bytes(`a=\xe9\xff; ${SESSION}=${session}`)],
            ['UTF-8 bytes in another cookie', Buffer.from(`a=佐藤; ${SESSION}=${session}`)],
            ['a tab inside the header', bytes(`a=1;\t${SESSION}=${session}`)],
          ]
          for (const [label, cookie] of reaching) {
            const res = await socketGet(baseUrl, '/username', cookie)
            assertNo5xx(res.status, label)
            assert.equal(res.body, 'Notch', label)
          }
          // Non-ASCII inside the session cookie itself: rejected as malformed.
          const rejected = listen(spec.manager, 'cookieRejected')
          for (const value of [`v1.\xe9${session.slice(4)}`, `${session.slice(0, -2)}\xc3\xa9`]) {
            const res = await socketGet(baseUrl, '/username', bytes(`${SESSION}=${value}`))
            assertNo5xx(res.status, 'non-ASCII session')
            assert.equal(res.body, 'Anonymous')
          }
          assert.ok(rejected.calls.every(({ reason }) => reason === 'malformed'))
          assert.equal(rejected.count, 2)
          rejected.off()
          // Control bytes: the HTTP parser may refuse them (400); never a 5xx, never logged in.
          for (const control of ['\x00', '\x01', '\x08', '\x1b', '\x7f']) {
            const res = await socketGet(
              baseUrl,
              '/username',
              bytes(
                `a=${control}b; ${SESSION}=${session.slice(0, 20)}${control}${session.slice(20)}`,
              ),
            )
            const label = `control byte 0x${control.charCodeAt(0).toString(16)}`
            assertNo5xx(res.status, label)
            if (res.status === 200) assert.equal(res.body, 'Anonymous', label)
          }
        })
      })

      it('a 16 KB Cookie header: no 5xx, and a large header is parsed', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { session } = await loggedInCookies(c, '/login')
          const huge = await c.get('/username', {
            headers: { cookie: `a=${'b'.repeat(16 * 1024)}; ${SESSION}=${session}` },
          })
          assertNo5xx(huge.status, '16 KB Cookie header')
          if (huge.status === 200) assert.equal(huge.body, 'Notch')
          const pairs = Array.from({ length: 600 }, (_, i) => `c${i}=${i}`).join('; ')
          const large = await c.get('/username', {
            headers: { cookie: `${pairs}; ${';'.repeat(1000)} ${SESSION}=${session}` },
          })
          assert.equal(large.status, 200)
          assert.equal(large.body, 'Notch')
        })
      })
    })

    describe('Cookie header framing', () => {
      it('two Cookie header lines: no 5xx, the session is found in either order', async () => {
        const spec = app()
        await withServer(adapter, spec, async (baseUrl) => {
          const { session } = await loggedInCookies(new TestClient(baseUrl), '/login')
          for (const [first, second] of [
            ['a=1', `${SESSION}=${session}`],
            [`${SESSION}=${session}`, 'a=1'],
          ]) {
            const res = await socketGet(
              baseUrl,
              '/username',
              Buffer.from(`${first}\r\nCookie: ${second}`),
            )
            assertNo5xx(res.status, `${first} / ${second}`)
            assert.equal(res.body, 'Notch', `${first} / ${second}`)
          }
        })
      })
    })

    // ------------------------------------------------------------------ remember cookie
    describe('Remember cookie', () => {
      it('a tampered remember cookie is rejected at every position', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const { remember } = await loggedInCookies(c)
          assert.ok(remember !== undefined)
          for (const [label, index, reasons] of tamperPositions(remember)) {
            await expectRejected(
              spec,
              c,
              `${REMEMBER}=${flip(remember, index)}`,
              'remember',
              reasons,
              label,
            )
          }
          const ok = await c.get('/username', { headers: { cookie: `${REMEMBER}=${remember}` } })
          assert.equal(ok.body, 'Notch')
        })
      })

      it('an expired remember cookie is rejected even though the client still sends it', async () => {
        const time = clock()
        const spec = app({ now: time.now, remember: { duration: 3600 } })
        await withApp(adapter, spec, async (c) => {
          const { remember } = await loggedInCookies(c)
          assert.ok(remember !== undefined)
          time.advance(3500)
          const ok = await c.get('/username', { headers: { cookie: `${REMEMBER}=${remember}` } })
          assert.equal(ok.body, 'Notch')
          time.advance(101)
          await expectRejected(
            spec,
            c,
            `${REMEMBER}=${remember}`,
            'remember',
            ['expired'],
            'expired',
          )
        })
      })

      it('flask format: a bad HMAC is rejected', async () => {
        const spec = app({ remember: { format: 'flask' } })
        await withApp(adapter, spec, async (c) => {
          const valid = encodeCookie('1', SECRET)
          const ok = await c.get('/username', { headers: { cookie: `${REMEMBER}=${valid}` } })
          assert.equal(ok.body, 'Notch', 'the genuine Flask cookie is accepted')
          const bad: [string, CookieRejection[]][] = [
            [`1|${'0'.repeat(128)}`, ['signature']],
            [`1|${valid.slice(2).toUpperCase()}`, ['signature']],
            [flip(valid, valid.length - 1), ['signature']],
            [`2${valid.slice(1)}`, ['signature']],
            ['1|abc', ['signature', 'malformed']],
            [encodeCookie('1', OTHER_SECRET), ['signature']],
            [`|${valid.slice(2)}`, ['malformed']],
            ['no-bar-at-all', ['malformed']],
          ]
          for (const [value, reasons] of bad) {
            await expectRejected(spec, c, `${REMEMBER}=${value}`, 'remember', reasons, value)
          }
        })
      })

      it('flask format: non-ASCII bytes never give a 500 (Flask-Login does)', async () => {
        const spec = app({ remember: { format: 'flask' } })
        await withServer(adapter, spec, async (baseUrl) => {
          const hmacOf = (id: string) => encodeCookie(id, SECRET).split('|')[1] as string
          const rejected = listen(spec.manager, 'cookieRejected')
          const cases: [string, Buffer, string][] = [
            ['a latin-1 byte, bad HMAC', Buffer.from(`\xe9|${hmacOf('e')}`, 'latin1'), 'Anonymous'],
            [
              'a latin-1 byte, its HMAC',
              Buffer.from(`\xe9|${hmacOf('\xe9')}`, 'latin1'),
              'Anonymous',
            ],
            ['raw UTF-8 id', Buffer.from(`佐藤|${hmacOf('佐藤')}`), 'Anonymous'],
            ['a bad percent escape', Buffer.from(`%E9|${hmacOf('\xe9')}`), 'Anonymous'],
            ['a lone surrogate', Buffer.from(`%ED%A0%80|${hmacOf('x')}`), 'Anonymous'],
            ['the escaped UTF-8 id', Buffer.from(`%E4%BD%90%E8%97%A4|${hmacOf('佐藤')}`), 'Müller'],
          ]
          for (const [label, value, expected] of cases) {
            rejected.reset()
            const res = await socketGet(
              baseUrl,
              '/username',
              Buffer.concat([Buffer.from(`${REMEMBER}=`), value]),
            )
            assertNo5xx(res.status, label)
            assert.equal(res.status, 200, label)
            assert.equal(res.body, expected, label)
            if (expected === 'Anonymous') {
              assert.equal(rejected.count, 1, `${label}: no cookieRejected`)
              assert.ok(
                ['signature', 'malformed', 'unknown-user'].includes(
                  rejected.calls[0]?.reason ?? '',
                ),
                `${label}: ${rejected.calls[0]?.reason}`,
              )
              const setCookies = res.headers.get('set-cookie') ?? []
              assert.ok(
                setCookies.some((line) => line.startsWith(`${REMEMBER}=;`)),
                `${label}: the bad remember cookie was not deleted`,
              )
            }
          }
          rejected.off()
        })
      })
    })

    // ------------------------------------------------------------------ redirects
    describe('Redirects: auth.nextUrl()', () => {
      it(`${HOSTILE_NEXT.length} hostile next values fall back and fire redirectRejected`, async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const rejected = listen(spec.manager, 'redirectRejected')
          for (const value of HOSTILE_NEXT) {
            const label = JSON.stringify(value.slice(0, 60))
            rejected.reset()
            const res = await c.get(`/login-next?next=${encodeURIComponent(value)}`)
            assertNo5xx(res.status, label)
            assert.equal(res.status, 302, label)
            assert.equal(res.location, '/home', label)
            assert.doesNotMatch(res.location ?? '', /evil/i, label)
            assert.equal(rejected.count, 1, `${label}: ${rejected.count} redirectRejected`)
            const target = rejected.calls[0]?.target ?? ''
            assert.equal(target, JSON.stringify(value.slice(0, 200)), label)
            assert.ok(
              [...target].every((ch) => ch.charCodeAt(0) >= 0x20),
              `${label}: raw control characters`,
            )
          }
        })
      })

      it('a percent-encoded next is decoded once only', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          // '%2F%2Fevil.com' (decoded once from '%252F%252F…') is not a path: the fallback.
          const once = await c.get('/login-next?next=%252F%252Fevil.com')
          assert.equal(once.location, '/home')
          // '/%2F%2Fevil.com' is a same-origin path and stays exactly that.
          const path = await c.get('/login-next?next=%2F%252F%252Fevil.com')
          assert.equal(path.location, '/%2F%2Fevil.com')
          assert.ok(!path.location?.startsWith('//'))
        })
      })

      it('a 100k next: no 5xx', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const res = await c.get(`/login-next?next=%2F${'a'.repeat(100_000)}`)
          // Node refuses request heads over 16 KB with a 431 before the app runs.
          assertNo5xx(res.status, '100k next')
          if (res.status === 302) assert.equal(res.location, '/home')
        })
      })

      it('repeated next parameters: the first is used', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const good = await c.get('/login-next?next=%2Fgood&next=%2F%2Fevil.com')
          assert.equal(good.location, '/good')
          const rejected = listen(spec.manager, 'redirectRejected')
          const bad = await c.get('/login-next?next=%2F%2Fevil.com&next=%2Fgood')
          assert.equal(bad.location, '/home')
          rejected.heardOne(({ target }) => target === '"//evil.com"')
        })
      })

      it('safe targets are kept', async () => {
        const spec = app({ allowedRedirectOrigins: ['https://app.example'] })
        await withApp(adapter, spec, async (c) => {
          for (const [next, location] of [
            ['/account?tab=1', '/account?tab=1'],
            ['/a/b#c', '/a/b#c'],
            ['https://app.example/x', 'https://app.example/x'],
            ['/caf\u00e9', '/caf%C3%A9'],
          ]) {
            const res = await c.get(`/login-next?next=${encodeURIComponent(next as string)}`)
            assert.equal(res.location, location, next)
          }
        })
      })
    })

    // ------------------------------------------------------------------ response headers
    describe('Response headers', () => {
      const extra: Route[] = [
        {
          path: '/read-vary',
          handler: ({ auth }) => ({
            body: JSON.stringify(auth.session.get('x') ?? null),
            headers: { vary: 'Accept-Encoding' },
          }),
        },
        {
          path: '/login-public',
          handler: async ({ auth }) => {
            await auth.loginUser(notch)
            return { body: 'ok', headers: { 'cache-control': 'public, max-age=3600' } }
          },
        },
        {
          path: '/logout-public',
          handler: async ({ auth }) => {
            await auth.logoutUser()
            return { body: 'ok', headers: { 'cache-control': 'public, max-age=3600' } }
          },
        },
        {
          path: '/public',
          handler: () => ({ body: 'ok', headers: { 'cache-control': 'public, max-age=3600' } }),
        },
        {
          path: '/login-with-app-cookie',
          handler: async ({ auth }) => {
            await auth.loginUser(steve)
            return { body: 'ok', headers: { 'set-cookie': 'app=1; Path=/; HttpOnly' } }
          },
        },
      ]

      it('Vary contains Cookie whenever the session was read', async () => {
        const spec = app({}, extra)
        await withApp(adapter, spec, async (c) => {
          const anonymousRead = await c.get('/read')
          assertVaryCookie(anonymousRead.headers, 'anonymous read')
          assert.deepEqual(anonymousRead.setCookies, [])
          await c.get('/login')
          const read = await c.get('/read')
          assertVaryCookie(read.headers, 'logged-in read')
          assert.deepEqual(read.setCookies, [], 'a read-only request re-sent the cookie')
          const user = await c.get('/username')
          assertVaryCookie(user.headers, 'user load')
          const merged = await c.get('/read-vary')
          assertVaryCookie(merged.headers, 'route Vary')
          assert.match(merged.headers.get('vary') ?? '', /accept-encoding/i)
          const untouched = await c.get('/')
          assert.doesNotMatch(untouched.headers.get('vary') ?? '', /cookie/i)
        })
      })

      it("Cache-Control is 'private, no-store' whenever a Set-Cookie is sent", async () => {
        const spec = app({}, extra)
        await withApp(adapter, spec, async (c) => {
          for (const path of ['/login-public', '/logout-public', '/login-remember', '/logout']) {
            const res = await c.get(path)
            assert.ok(res.setCookies.length > 0, `${path} set no cookie`)
            assert.equal(res.headers.get('cache-control'), 'private, no-store', path)
            assertVaryCookie(res.headers, path)
          }
          const rejected = await c.get('/username', { headers: { cookie: `${SESSION}=garbage` } })
          assert.ok(rejected.setCookies.length > 0)
          assert.equal(rejected.headers.get('cache-control'), 'private, no-store')
          const untouched = await c.get('/public')
          assert.equal(untouched.headers.get('cache-control'), 'public, max-age=3600')
        })
      })

      it("a Set-Cookie set by the route is kept next to the library's", async () => {
        const spec = app({}, extra)
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/login-with-app-cookie')
          assert.equal(cookieIn(res, 'app')?.value, '1')
          assert.ok((cookieIn(res, SESSION)?.value ?? '') !== '', 'the session cookie is missing')
          assert.equal((await c.get('/username')).body, 'Steve')
        })
      })
    })

    // ------------------------------------------------------------------ Host header
    describe('Host header', () => {
      it('the Host header is not reflected in the login redirect', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/secret', { headers: { host: 'evil.com' } })
          assert.equal(res.status, 302)
          assert.equal(res.location, '/login?next=%2Fsecret')
          assert.doesNotMatch(res.body, /evil/)
        })
      })

      it('with origin configured, a cross-origin login view uses it', async () => {
        const spec = app({ origin: 'https://app.example', loginView: 'https://auth.example/login' })
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/secret', { headers: { host: 'evil.com' } })
          assert.equal(res.status, 302)
          assert.equal(
            res.location,
            'https://auth.example/login?next=https%3A%2F%2Fapp.example%2Fsecret',
          )
          assert.doesNotMatch(`${res.location} ${res.body}`, /evil/)
        })
      })
    })

    describe('Forwarded and malformed Host headers', () => {
      it('X-Forwarded-Host / -Proto and Forwarded are not trusted by default', async () => {
        const spec = app({ loginView: 'https://auth.example/login' })
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/secret', {
            headers: {
              'x-forwarded-host': 'evil.com',
              'x-forwarded-proto': 'https',
              forwarded: 'host=evil.com;proto=https',
            },
          })
          assert.equal(res.status, 302)
          assert.doesNotMatch(res.location ?? '', /evil/)
          // Without a configured origin, a cross-origin login view gets the path only (issue 10).
          assert.equal(res.location, 'https://auth.example/login?next=%2Fsecret')
        })
      })

      it('malformed Host headers: no 5xx; with origin configured, never reflected', async () => {
        const spec = app({ origin: 'https://app.example', loginView: 'https://auth.example/login' })
        await withServer(adapter, spec, async (baseUrl) => {
          for (const host of ['evil.com:99999', 'evil.com/path', '[::1', 'a@evil.com', '']) {
            const res = await new TestClient(baseUrl).get('/secret', { headers: { host } })
            assertNo5xx(res.status, `Host ${JSON.stringify(host)}`)
            if (res.status === 302) {
              assert.equal(
                res.location,
                'https://auth.example/login?next=https%3A%2F%2Fapp.example%2Fsecret',
                `Host ${JSON.stringify(host)}`,
              )
            }
          }
        })
      })
    })

    // ------------------------------------------------------------------ token leakage
    describe('Token leakage', () => {
      it('session and remember values never appear in a Location or a body', async () => {
        const spec = app({}, [
          { path: '/whoami', guard: 'login', handler: ({ auth }) => String(auth.sessionUserId) },
        ])
        await withApp(adapter, spec, async (c) => {
          const seen: ClientResponse[] = []
          const get = async (path: string) => {
            const res = await c.get(path)
            seen.push(res)
            return res
          }
          await get('/secret')
          await get('/login-next?next=%2Fsecret')
          await get('/login-remember')
          await get('/secret')
          await get('/whoami')
          await get('/username')
          await get('/logout')
          await get('/secret')
          c.jar.set(SESSION, 'garbage')
          await get('/username')
          const secrets = new Set<string>()
          for (const res of seen) {
            for (const cookie of res.setCookies) {
              if (cookie.value.length >= 16) secrets.add(cookie.value)
            }
          }
          assert.ok(secrets.size >= 2, 'the flow issued too few cookies to check')
          for (const res of seen) {
            for (const secret of secrets) {
              const sample = secret.slice(12, 40)
              assert.ok(!res.body.includes(sample), 'a cookie value appears in a body')
              assert.ok(!(res.location ?? '').includes(sample), 'a cookie value appears in a URL')
            }
          }
        })
      })
    })
  })
}
