/**
 * The session layer's own limits, over HTTP on every adapter layout (issue 10, §1):
 *
 * - flash messages cannot pile up: a page flashed on every visit (a crawler on a guarded page)
 *   is kept once, a queue of distinct messages drops the oldest, a huge message is shortened;
 * - login-manager's own part of a sealed cookie always fits: a long `next` kept by
 *   `useSessionForNext` is left out rather than overflowing, even beside the longest user id,
 *   session version and a full flash queue;
 * - store records (`MemoryStore` here; Redis in `test/stores/session-records.test.ts`) that do not
 *   decode — nested 100k levels deep, not valid UTF-8, a lone surrogate, too large — are no
 *   session, are deleted, and never stop a login or a logout; a write over the record limit
 *   fails whole, leaving the stored session as it was; app keys and values of any script
 *   round-trip, stored as ASCII.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManager, type LoginManagerOptions, MemoryStore, UserMixin } from 'login-manager'
import { sessionKeyOf } from '../stores/support.ts'
import type { ClientResponse, TestClient } from '../support/client.ts'
import { adapters } from './adapters/index.ts'
import { type AppSpec, type RouteDef, withApp } from './harness.ts'

const SECRET = 'hardening-session-secret-Vq7Lm2Xp9Rt4Kw8Nc3Hb6'
const SESSION = '__Host-session'
const LOGIN_MESSAGE = 'Please log in to access this page.'

class Member extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly version = 'v1',
  ) {
    super()
  }
}

const notch = new Member('1', 'Notch')
/** The longest id a cookie session accepts, and the longest session version. */
const longest = new Member('L'.repeat(1024), 'Longest', 'V'.repeat(128))
const members = new Map([notch, longest].map((m) => [m.id, m]))

type Options = LoginManagerOptions<Member, string>
type Route = RouteDef<Member>

function routes(): Route[] {
  return [
    { path: '/', handler: () => 'Welcome!' },
    // A login page that never reads the flashes (as a crawler never logs in).
    { path: '/login', handler: () => 'Log in here' },
    { path: '/login-notch', handler: async ({ auth }) => String(await auth.loginUser(notch)) },
    {
      path: '/login-longest',
      handler: async ({ auth }) =>
        String(await auth.loginUser(longest, { remember: true, fresh: false })),
    },
    { path: '/logout', handler: async ({ auth }) => String(await auth.logoutUser()) },
    {
      path: '/username',
      handler: async ({ auth }) => (await auth.getUser())?.name ?? 'Anonymous',
    },
    { path: '/protected', guard: 'login', handler: ({ auth }) => `Hello ${auth.user?.name}` },
    { path: '/fresh', guard: 'fresh', handler: ({ auth }) => `Fresh ${auth.user?.name}` },
    { path: '/next-url', handler: ({ auth }) => auth.nextUrl('/fallback') },
    {
      path: '/note',
      handler: ({ auth, query }) => {
        auth.flash(`Note ${query('i')}: ${'x'.repeat(200)}`)
        return 'noted'
      },
    },
    {
      path: '/shout',
      handler: ({ auth }) => {
        auth.flash('佐'.repeat(20_000), 'error')
        return 'shouted'
      },
    },
    {
      path: '/flashes',
      handler: ({ auth }) => JSON.stringify(auth.consumeFlashes().map((f) => f.message)),
    },
    {
      path: '/set',
      handler: ({ auth, query }) => {
        const size = Number(query('size') ?? '0')
        auth.session.set(query('k') ?? 'k', size > 0 ? 'v'.repeat(size) : (query('v') ?? 'v'))
        return 'set'
      },
    },
    {
      path: '/get',
      handler: ({ auth, query }) => JSON.stringify(auth.session.get(query('k') ?? 'k') ?? null),
    },
  ]
}

function spec(overrides: Partial<Options> = {}): AppSpec<Member> {
  const manager = new LoginManager<Member, string>({
    secret: SECRET,
    userLoader: (id) => members.get(id) ?? null,
    loginView: '/login',
    refreshView: '/login',
    sessionVersion: (member) => member.version,
    ...overrides,
  })
  return { manager, routes: routes() }
}

async function expect200(client: TestClient, path: string): Promise<string> {
  const res = await client.get(path)
  assert.equal(res.status, 200, `${path} answered ${res.status}: ${res.body}`)
  return res.body
}

/** Asserts a guard redirect to the login page (not a 5xx); returns the response. */
async function expectLoginRedirect(client: TestClient, path: string): Promise<ClientResponse> {
  const res = await client.get(path)
  assert.equal(res.status, 302, `${path} answered ${res.status}: ${res.body}`)
  assert.match(res.location ?? '', /^\/login(\?|$)/)
  return res
}

/** Every session cookie the response set fits in a browser's 4096 bytes. */
function assertCookieFits(res: ClientResponse): void {
  for (const cookie of res.setCookies) {
    const pair = `${cookie.name}=${cookie.value}`
    assert.ok(pair.length <= 4096, `${cookie.name} is ${pair.length} bytes`)
  }
}

function flashesOf(body: string): string[] {
  return JSON.parse(body) as string[]
}

/** A store key's record, read straight from the store. */
async function recordOf(store: MemoryStore, client: TestClient) {
  const value = client.jar.get(SESSION)?.value
  assert.ok(value !== undefined, 'the browser has a session cookie')
  const key = sessionKeyOf(value)
  return { key, fields: await store.get(key) }
}

for (const adapter of adapters) {
  describe(adapter.name, () => {
    describe('flash messages cannot overflow the session', () => {
      for (const useSessionForNext of [false, true]) {
        it(`80 anonymous hits on a guarded page keep one login message (useSessionForNext: ${useSessionForNext})`, async () => {
          await withApp(adapter, spec({ useSessionForNext }), async (client) => {
            for (let i = 0; i < 80; i++) {
              assertCookieFits(await expectLoginRedirect(client, `/protected?page=${i}`))
            }
            assert.equal(await expect200(client, '/login'), 'Log in here')
            assertCookieFits(await expectLoginRedirect(client, '/protected'))
            assert.equal(await expect200(client, '/login-notch'), 'true')
            assert.equal(await expect200(client, '/protected'), 'Hello Notch')
            assert.deepEqual(flashesOf(await expect200(client, '/flashes')), [LOGIN_MESSAGE])
            assert.equal(
              await expect200(client, '/next-url'),
              useSessionForNext ? '/protected' : '/fallback',
            )
          })
        })
      }

      it('distinct messages: the newest are kept, the oldest dropped, the session keeps working', async () => {
        await withApp(adapter, spec(), async (client) => {
          for (let i = 0; i < 100; i++) {
            const res = await client.get(`/note?i=${i}`)
            assert.equal(res.status, 200, `note ${i}: ${res.status}`)
            assertCookieFits(res)
          }
          assertCookieFits(await expectLoginRedirect(client, '/protected'))
          const kept = flashesOf(await expect200(client, '/flashes'))
          assert.ok(kept.length >= 2 && kept.length <= 32, `${kept.length} kept`)
          assert.equal(kept.at(-1), LOGIN_MESSAGE)
          const numbers = kept.slice(0, -1).map((m) => Number(/^Note (\d+):/.exec(m)?.[1]))
          assert.equal(numbers.at(-1), 99, 'the newest note is kept')
          assert.deepEqual(
            numbers,
            numbers.map((_, i) => 100 - numbers.length + i),
            'the newest, in order',
          )
          assert.equal(await expect200(client, '/login-notch'), 'true')
          assert.equal(await expect200(client, '/protected'), 'Hello Notch')
        })
      })

      it('a huge flashed message is shortened, not a 500', async () => {
        await withApp(adapter, spec(), async (client) => {
          const res = await client.get('/shout')
          assert.equal(res.status, 200, `${res.status}: ${res.body}`)
          assertCookieFits(res)
          const [message = '', ...rest] = flashesOf(await expect200(client, '/flashes'))
          assert.deepEqual(rest, [])
          assert.ok(message.endsWith('…'))
          assert.ok(message.length > 300, 'as much as fits is kept')
          assert.ok('佐'.repeat(20_000).startsWith(message.slice(0, -1)))
        })
      })
    })

    describe("login-manager's own part of a sealed cookie always fits", () => {
      it('useSessionForNext with a very long URL: a redirect, never a 500', async () => {
        await withApp(adapter, spec({ useSessionForNext: true }), async (client) => {
          assertCookieFits(await expectLoginRedirect(client, `/protected?q=${'a'.repeat(3000)}`))
          assert.equal(await expect200(client, '/login'), 'Log in here')
          assert.equal(await expect200(client, '/login-notch'), 'true')
          assert.equal(await expect200(client, '/protected'), 'Hello Notch')
        })
      })

      it('a long next beside the app’s data is left out rather than overflow', async () => {
        await withApp(adapter, spec({ useSessionForNext: true }), async (client) => {
          assert.equal(await expect200(client, '/set?k=draft&size=1500'), 'set')
          const target = `/protected?q=${'a'.repeat(1900)}`
          assertCookieFits(await expectLoginRedirect(client, target))
          assert.equal(await expect200(client, '/login-notch'), 'true')
          assert.equal(await expect200(client, '/next-url'), '/fallback')
          assert.equal(await expect200(client, '/get?k=draft'), JSON.stringify('v'.repeat(1500)))
        })
      })

      it('the longest id and version, a remember duration, a full flash queue and a long next', async () => {
        await withApp(adapter, spec({ useSessionForNext: true }), async (client) => {
          assert.equal(await expect200(client, '/login-longest'), 'true')
          for (let i = 0; i < 40; i++) {
            const res = await client.get(`/note?i=${i}`)
            assert.equal(res.status, 200, `note ${i}: ${res.status}`)
            assertCookieFits(res)
          }
          assert.equal(await expect200(client, '/shout'), 'shouted')
          // Not fresh: needs a refresh, which flashes and keeps a next in the logged-in session.
          const res = await client.get(`/fresh?q=${'%E7%99%BB'.repeat(220)}`)
          assert.equal(res.status, 302, `${res.status}: ${res.body}`)
          assertCookieFits(res)
          assert.equal(await expect200(client, '/username'), 'Longest')
          assert.equal(await expect200(client, '/protected'), 'Hello Longest')
          assert.equal(await expect200(client, '/logout'), 'true')
          assert.equal(await expect200(client, '/username'), 'Anonymous')
        })
      })
    })

    describe('store records (MemoryStore)', () => {
      function storeSpec(store: MemoryStore): AppSpec<Member> {
        return spec({ session: { store } })
      }

      /** Logs notch in with some data, then replaces the record's fields through `corrupt`. */
      async function corrupted(
        client: TestClient,
        store: MemoryStore,
        corrupt: Record<string, string>,
      ): Promise<string> {
        assert.equal(await expect200(client, '/login-notch'), 'true')
        assert.equal(await expect200(client, '/set?k=x&v=1'), 'set')
        const { key, fields } = await recordOf(store, client)
        assert.ok(fields !== null)
        assert.ok(await store.write(key, { mode: 'update', set: corrupt, ttl: 600 }))
        return key
      }

      const corruptions: Record<string, Record<string, string>> = {
        'a value nested 100k levels deep': {
          'd:x': `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
        },
        'a lone surrogate (not encodable as UTF-8)': { 'd:x': '"\ud800"' },
        'U+FFFD (what a lenient decoder leaves of invalid UTF-8)': { 'd:x': '"M\ufffdller"' },
        'more than the record limit': { 'd:x': JSON.stringify('b'.repeat(70_000)) },
      }

      for (const [label, corrupt] of Object.entries(corruptions)) {
        it(`${label}: anonymous, deleted; login and logout still work`, async () => {
          const store = new MemoryStore()
          await withApp(adapter, storeSpec(store), async (client) => {
            const key = await corrupted(client, store, corrupt)
            assert.equal(await expect200(client, '/username'), 'Anonymous')
            assert.equal(await store.get(key), null, 'the corrupt record is deleted')
            assert.equal(await expect200(client, '/login-notch'), 'true')
            assert.equal(await expect200(client, '/username'), 'Notch')
            assert.equal(await expect200(client, '/logout'), 'true')
            assert.equal(await expect200(client, '/username'), 'Anonymous')
          })
        })
      }

      it('a corrupt record met by a re-login or a logout first: no 5xx', async () => {
        const deep = { 'd:x': `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}` }
        for (const first of ['/login-notch', '/logout']) {
          const store = new MemoryStore()
          await withApp(adapter, storeSpec(store), async (client) => {
            const key = await corrupted(client, store, deep)
            await expect200(client, first)
            assert.equal(await store.get(key), null)
            assert.equal(
              await expect200(client, '/username'),
              first === '/logout' ? 'Anonymous' : 'Notch',
            )
          })
        }
      })

      it('a write over the record limit fails whole: the stored session stays as it was', async () => {
        const store = new MemoryStore()
        await withApp(adapter, storeSpec(store), async (client) => {
          assert.equal(await expect200(client, '/login-notch'), 'true')
          assert.equal(await expect200(client, '/set?k=keep&v=kept'), 'set')
          const before = await recordOf(store, client)
          const res = await client.get('/set?k=huge&size=70000')
          // The app's own data overflowed: like ERR_COOKIE_TOO_LARGE, the app's error (a 500).
          assert.equal(res.status, 500)
          assert.deepEqual(await recordOf(store, client), before)
          assert.equal(await expect200(client, '/get?k=huge'), 'null')
          assert.equal(await expect200(client, '/get?k=keep'), '"kept"')
          assert.equal(await expect200(client, '/username'), 'Notch')
        })
      })

      it('80 anonymous hits on a guarded page store one login message', async () => {
        const store = new MemoryStore()
        await withApp(adapter, storeSpec(store), async (client) => {
          for (let i = 0; i < 80; i++) await expectLoginRedirect(client, `/protected?page=${i}`)
          const { fields } = await recordOf(store, client)
          assert.equal(fields?.f, JSON.stringify([['message', LOGIN_MESSAGE]]))
          assert.equal(await expect200(client, '/login-notch'), 'true')
          assert.deepEqual(flashesOf(await expect200(client, '/flashes')), [LOGIN_MESSAGE])
        })
      })

      it('keys and values in any script round-trip, stored as ASCII', async () => {
        const store = new MemoryStore()
        await withApp(adapter, storeSpec(store), async (client) => {
          const key = encodeURIComponent('größe 佐藤')
          const value = encodeURIComponent('Grüße 💥 \\ "')
          assert.equal(await expect200(client, `/set?k=${key}&v=${value}`), 'set')
          assert.equal(await expect200(client, `/get?k=${key}`), JSON.stringify('Grüße 💥 \\ "'))
          const { fields } = await recordOf(store, client)
          for (const [name, text] of Object.entries(fields ?? {})) {
            assert.match(name, /^[\x20-\x7e]+$/)
            assert.match(text, /^[\x20-\x7e]*$/)
          }
        })
      })
    })
  })
}
