/**
 * The failure rule of the adapter contract, over HTTP on every adapter layout (issue 11, §2):
 * when the session store fails — a write after the handler answered, the load of the session
 * (`onStoreError: 'fail'`), a remember-me restore — the response is replaced entirely by the
 * core's 503: status 503, the body below, and exactly the four headers below; nothing of the
 * app's (its content type, its own headers, its `Vary`, a CORS middleware's headers, cookies)
 * survives. A response whose headers already went out (a stream flushed early) ends as the app
 * sent it, and the failure is reported through the `storeError` event. With
 * `onStoreError: 'anonymous'` a failed load lets the request go on as anonymous.
 *
 * The store is a `MemoryStore` whose operations fail on demand.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  LoginManager,
  type LoginManagerEvents,
  type LoginManagerOptions,
  MemoryStore,
  UserMixin,
} from 'login-manager'
import type { ClientResponse, TestClient } from '../support/client.ts'
import { adapters } from './adapters/index.ts'
import { type AdapterHarness, type AppSpec, type RouteDef, withApp } from './harness.ts'

const SECRET = 'failure-paths-secret-Hq3Vn8Zt2Lw6Kb9Rx4Mc7Pd'
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'

const UNAVAILABLE_BODY = 'Service Unavailable: the session store cannot be reached'
/** The whole header set of the core's 503, as the contract fixes it. */
const UNAVAILABLE_HEADERS = {
  'cache-control': 'no-store',
  'content-type': 'text/plain; charset=utf-8',
  'retry-after': '5',
  vary: 'Cookie',
}
/** Headers the HTTP server itself adds to every response; no part of the rule. */
const TRANSPORT = new Set([
  'connection',
  'content-length',
  'date',
  'keep-alive',
  'transfer-encoding',
])

/** What a JSON handler sets before its response goes out. */
const APP_HEADERS = { 'x-app': '1', 'content-type': 'application/json', vary: 'Accept' }
const CORS = {
  'access-control-allow-origin': 'https://app.example',
  'access-control-allow-credentials': 'true',
}

class Member extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super()
  }
}

const notch = new Member('1', 'Notch')
const members = new Map([[notch.id, notch]])

type Operation = 'get' | 'write' | 'touch' | 'destroy' | 'members' | 'destroyIndex'

/** A `MemoryStore` whose operations named in `failing` reject, as a store that cannot be reached. */
class FailingStore extends MemoryStore {
  readonly failing = new Set<Operation>()
  #check(operation: Operation): void {
    if (this.failing.has(operation)) throw new Error(`FailingStore.${operation}: unreachable`)
  }
  override async get(key: string) {
    this.#check('get')
    return super.get(key)
  }
  override async write(key: string, write: Parameters<MemoryStore['write']>[1]) {
    this.#check('write')
    return super.write(key, write)
  }
  override async touch(key: string, ttl: number, fields?: Readonly<Record<string, string>>) {
    this.#check('touch')
    return super.touch(key, ttl, fields)
  }
  override async destroy(key: string, index?: string) {
    this.#check('destroy')
    return super.destroy(key, index)
  }
  override async members(index: string) {
    this.#check('members')
    return super.members(index)
  }
  override async destroyIndex(index: string, keep?: readonly string[]) {
    this.#check('destroyIndex')
    return super.destroyIndex(index, keep)
  }
}

type StoreErrorEvent = LoginManagerEvents<Member, string>['storeError']

interface FailureApp {
  spec: AppSpec<Member>
  store: FailingStore
  /** The `operation` of every `storeError` event so far. */
  errors: string[]
}

function json(body: unknown) {
  return { status: 200, headers: { ...APP_HEADERS }, body: JSON.stringify(body) }
}

function routes(): RouteDef<Member>[] {
  return [
    { path: '/login', handler: () => 'Log in here' },
    {
      path: '/login-notch',
      handler: async ({ auth }) => String(await auth.loginUser(notch)),
    },
    {
      path: '/login-notch-remember',
      handler: async ({ auth }) => String(await auth.loginUser(notch, { remember: true })),
    },
    {
      path: '/username',
      handler: async ({ auth }) => (await auth.getUser())?.name ?? 'Anonymous',
    },
    { path: '/protected', guard: 'login', handler: ({ auth }) => `Hello ${auth.user?.name}` },
    // A JSON API handler that never touches the session.
    { path: '/api/plain', handler: () => json({ ok: true }) },
    { path: '/api/guarded', guard: 'login', handler: () => json({ ok: true }) },
    // A JSON handler that logs in: the session is written after it answered.
    {
      path: '/api/login',
      handler: async ({ auth }) => json({ loggedIn: await auth.loginUser(notch) }),
    },
    // A JSON handler that changes the session's data: one update write.
    {
      path: '/api/save',
      handler: ({ auth }) => {
        auth.session.set('saved', 'yes')
        return json({ saved: true })
      },
    },
    {
      path: '/stream-save',
      stream: true,
      handler: ({ auth }) => {
        auth.session.set('streamed', 'yes')
        return { status: 200, headers: { 'x-app': '1' }, body: 'first-chunk/second-chunk' }
      },
    },
  ]
}

function app(
  overrides: Partial<LoginManagerOptions<Member, string>> = {},
  onStoreError: 'fail' | 'anonymous' = 'fail',
  extra: Partial<AppSpec<Member>> = {},
): FailureApp {
  const store = new FailingStore()
  const manager = new LoginManager<Member, string>({
    secret: SECRET,
    userLoader: (id) => members.get(id) ?? null,
    loginView: '/login',
    ...overrides,
    session: { store, onStoreError, ...overrides.session },
  })
  const errors: string[] = []
  manager.on('storeError', ({ operation }: StoreErrorEvent) => {
    errors.push(operation)
  })
  return { spec: { manager, routes: routes(), ...extra }, store, errors }
}

/** The response's headers without those the HTTP server adds, as a sorted plain object. */
function headersOf(res: ClientResponse): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of [...res.headers].sort(([a], [b]) => a.localeCompare(b))) {
    if (!TRANSPORT.has(name)) out[name] = value
  }
  return out
}

/**
 * The failure rule: exactly the core's 503. `extra` are headers the harness's own wrapper adds
 * to every Response after login-manager answered (the Fetch layouts' stand-in for a CORS
 * middleware), which are not login-manager's to drop.
 */
function assertUnavailable(res: ClientResponse, what: string, extra: Record<string, string> = {}) {
  assert.equal(res.status, 503, `${what}: expected 503, got ${res.status} ${res.body}`)
  assert.equal(res.body, UNAVAILABLE_BODY, what)
  assert.deepEqual(
    headersOf(res),
    Object.fromEntries(
      Object.entries({ ...UNAVAILABLE_HEADERS, ...extra }).sort(([a], [b]) => a.localeCompare(b)),
    ),
    `${what}: the 503's headers, and nothing of the app's`,
  )
}

async function expectBody(client: TestClient, path: string, body: string): Promise<void> {
  const res = await client.get(path)
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.body}`)
  assert.equal(res.body, body, path)
}

/** Polls `check` until it holds (events may fire just after the response ended). */
async function eventually(check: () => boolean, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (check()) return true
    await sleep(10)
  }
  return check()
}

const crashes: unknown[] = []
const onCrash = (reason: unknown) => {
  crashes.push(reason)
}

describe('failure paths: the one failure rule on every layout', () => {
  before(() => {
    process.on('unhandledRejection', onCrash)
    process.on('uncaughtException', onCrash)
  })
  after(() => {
    process.off('unhandledRejection', onCrash)
    process.off('uncaughtException', onCrash)
    assert.deepEqual(crashes, [], 'unhandled rejections or exceptions while the store failed')
  })

  for (const adapter of adapters) {
    describe(`${adapter.name}: failure paths`, () => {
      failureScenarios(adapter)
    })
  }
})

function failureScenarios(adapter: AdapterHarness): void {
  describe('a store write fails after the handler answered', () => {
    it('a JSON login whose write fails: the 503 replaces the app content type, headers and Vary', async () => {
      const { spec, store, errors } = app()
      await withApp(adapter, spec, async (c) => {
        store.failing.add('write')
        const res = await c.get('/api/login')
        assertUnavailable(res, 'login write failed')
        assert.deepEqual(errors, ['save'])
        store.failing.clear()
        await expectBody(c, '/username', 'Anonymous')
      })
    })

    it('a JSON handler that changed the session: its failed update answers the 503, the session stays as it was', async () => {
      const { spec, store, errors } = app()
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch', 'true')
        const before = c.jar.get(SESSION)?.value
        store.failing.add('write')
        const res = await c.get('/api/save')
        assertUnavailable(res, 'update write failed')
        assert.deepEqual(errors, ['save'])
        assert.equal(c.jar.get(SESSION)?.value, before, 'the browser keeps its session cookie')
        store.failing.clear()
        await expectBody(c, '/username', 'Notch')
      })
    })

    it('headers an earlier middleware set (CORS) do not survive the 503 either', async () => {
      const { spec, store } = app({}, 'fail', { earlyHeaders: CORS })
      const extra = adapter.earlyHeadersWrapResponse === true ? CORS : {}
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch', 'true')
        store.failing.add('write')
        assertUnavailable(await c.get('/api/save'), 'update write failed, CORS', extra)
        assertUnavailable(await c.get('/api/login'), 'login write failed, CORS', extra)
      })
    })
  })

  describe("the load fails (onStoreError: 'fail')", () => {
    it('an unguarded route answers the 503 instead of the JSON it would have sent', async () => {
      const { spec, store, errors } = app()
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch', 'true')
        store.failing.add('get')
        assertUnavailable(await c.get('/api/plain'), 'load failed, unguarded')
        assertUnavailable(await c.get('/username'), 'load failed, unguarded, reads the user')
        assert.ok(errors.length >= 1 && errors.every((op) => op === 'load'), String(errors))
        store.failing.clear()
        await expectBody(c, '/username', 'Notch')
      })
    })

    it('a guarded route answers the 503, never the login redirect', async () => {
      const { spec, store, errors } = app()
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch', 'true')
        store.failing.add('get')
        assertUnavailable(await c.get('/protected'), 'load failed, guarded')
        assertUnavailable(await c.get('/api/guarded'), 'load failed, guarded JSON')
        assert.ok(errors.length >= 1 && errors.every((op) => op === 'load'), String(errors))
        store.failing.clear()
        await expectBody(c, '/protected', 'Hello Notch')
      })
    })
  })

  describe('a remember-me restore fails on the store (store-backed tokens)', () => {
    it('guarded and unguarded routes answer the 503; the remember cookie is kept', async () => {
      const { spec, store, errors } = app()
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch-remember', 'true')
        const token = c.jar.get(REMEMBER)?.value
        assert.ok(token !== undefined, 'a remember cookie was set')
        // The browser restarts: no session cookie, so the login comes from the token.
        c.deleteCookie(SESSION)
        store.failing.add('get')
        assertUnavailable(await c.get('/protected'), 'restore failed, guarded')
        assertUnavailable(await c.get('/username'), 'restore failed, reads the user')
        assert.ok(errors.includes('remember'), String(errors))
        assert.equal(c.jar.get(REMEMBER)?.value, token, 'the remember cookie is kept for later')
        store.failing.clear()
        await expectBody(c, '/protected', 'Hello Notch')
      })
    })
  })

  describe('a streaming response', () => {
    it('a failed write: the response ends as the app sent it when its headers were out, else the 503; storeError fires', async () => {
      const { spec, store, errors } = app()
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch', 'true')
        store.failing.add('write')
        const res = await c.get('/stream-save')
        if (adapter.streamSendsHeadersFirst === true) {
          assert.equal(res.status, 200, `${res.status} ${res.body}`)
          assert.equal(res.body, 'first-chunk/second-chunk', 'the stream completes as sent')
          assert.equal(res.headers.get('x-app'), '1')
        } else {
          assertUnavailable(res, 'stream not yet sent, write failed')
        }
        assert.ok(await eventually(() => errors.includes('save')), 'storeError fired')
        store.failing.clear()
        await expectBody(c, '/username', 'Notch')
      })
    })
  })

  describe("onStoreError: 'anonymous'", () => {
    it('a failed load: the request goes on as anonymous, the app response intact', async () => {
      const { spec, store, errors } = app({}, 'anonymous')
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch', 'true')
        const cookie = c.jar.get(SESSION)?.value
        store.failing.add('get')
        await expectBody(c, '/username', 'Anonymous')
        const api = await c.get('/api/plain')
        assert.equal(api.status, 200, `${api.status} ${api.body}`)
        assert.equal(api.body, '{"ok":true}')
        assert.equal(api.headers.get('x-app'), '1')
        assert.match(api.headers.get('content-type') ?? '', /^application\/json/)
        const guarded = await c.get('/protected')
        assert.equal(guarded.status, 302, `${guarded.status} ${guarded.body}`)
        assert.match(guarded.location ?? '', /^\/login(\?|$)/)
        assert.ok(errors.length >= 1 && errors.every((op) => op === 'load'), String(errors))
        assert.equal(c.jar.get(SESSION)?.value, cookie, 'the session cookie is kept')
        store.failing.clear()
        await expectBody(c, '/username', 'Notch')
      })
    })

    it('a failed remember-me restore: anonymous too', async () => {
      const { spec, store, errors } = app({}, 'anonymous')
      await withApp(adapter, spec, async (c) => {
        await expectBody(c, '/login-notch-remember', 'true')
        c.deleteCookie(SESSION)
        store.failing.add('get')
        await expectBody(c, '/username', 'Anonymous')
        const guarded = await c.get('/protected')
        assert.equal(guarded.status, 302, `${guarded.status} ${guarded.body}`)
        assert.ok(errors.includes('remember'), String(errors))
        store.failing.clear()
        await expectBody(c, '/protected', 'Hello Notch')
      })
    })
  })
}
