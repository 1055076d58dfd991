/**
 * Remember-me hardening scenarios over HTTP (issue 10: §1 refreshEachRequest, §2 stolen tokens,
 * rotation that must not resurrect, inactive users, §2b every race and fault), written once and
 * registered by `test/conformance/hardening-remember.test.ts` (every adapter, `MemoryStore`) and
 * `test/stores/remember-races.test.ts` (RedisStore over ioredis and node-redis).
 *
 * Races are made deterministic with gates (a route stops until the test releases it) and a
 * store wrapper whose hooks run before (or after) each store call, so a test can hold one
 * request's write until another has read, fail a write, or end the user's sessions at the
 * exact moment between two steps of a restore. No timing assertions.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import { it } from 'node:test'
import {
  LoginManager,
  type LoginManagerOptions,
  type RequestAuth,
  type SessionStore,
  type StoreWrite,
  UserMixin,
} from 'login-manager'
import type { AdapterHarness, AnyId, RouteDef, RunningApp } from '../conformance/harness.ts'
import { type ClientResponse, TestClient } from './client.ts'
import { listen } from './users.ts'

// ------------------------------------------------------------------------------------ users

/** A user an admin can deactivate mid-test. */
export class Member extends UserMixin {
  active = true
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super()
  }
  override get isActive(): boolean {
    return this.active
  }
}

export type Manager = LoginManager<Member, string>
export type Options = LoginManagerOptions<Member, string>

// ------------------------------------------------------------------------------------ gates

interface Deferred {
  promise: Promise<void>
  resolve: () => void
}

function deferred(): Deferred {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Hand-operated barriers: a route arrives and waits until the test releases it. */
export class Gates {
  readonly #arrived = new Map<string, Deferred>()
  readonly #released = new Map<string, Deferred>()

  arrive(name: string): Promise<void> {
    this.#get(this.#arrived, name).resolve()
    return this.#get(this.#released, name).promise
  }
  arrived(name: string): Promise<void> {
    return this.#get(this.#arrived, name).promise
  }
  release(name: string): void {
    this.#get(this.#released, name).resolve()
  }
  #get(map: Map<string, Deferred>, name: string): Deferred {
    let d = map.get(name)
    if (d === undefined) {
      d = deferred()
      map.set(name, d)
    }
    return d
  }
}

/** Resolves every arrival once `count` have arrived; later arrivals pass at once. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0
  const all = deferred()
  return () => {
    arrived++
    if (arrived >= count) all.resolve()
    return all.promise
  }
}

/** Which gated request a store call belongs to (set by the gated routes around their load). */
const requestName = new AsyncLocalStorage<string>()

// ------------------------------------------------------------------------------------ hooked store

/** Runs before (`get`, `write`) or after (`wrote`) the store call; may wait, or throw to fail it. */
export interface StoreHooks {
  get?: ((key: string) => void | Promise<void>) | undefined
  write?: ((key: string, write: StoreWrite) => void | Promise<void>) | undefined
  wrote?: ((key: string, write: StoreWrite, written: boolean) => void) | undefined
}

/** A store whose calls pass through the test's hooks first. */
export class HookedStore implements SessionStore {
  hooks: StoreHooks = {}
  constructor(readonly inner: SessionStore) {}

  async get(key: string) {
    await this.hooks.get?.(key)
    return this.inner.get(key)
  }
  async write(key: string, write: StoreWrite) {
    await this.hooks.write?.(key, write)
    const written = await this.inner.write(key, write)
    this.hooks.wrote?.(key, write, written)
    return written
  }
  touch(key: string, ttl: number, fields?: Readonly<Record<string, string>>) {
    return this.inner.touch(key, ttl, fields)
  }
  destroy(key: string, index?: string) {
    return this.inner.destroy(key, index)
  }
  members(index: string) {
    return this.inner.members(index)
  }
  destroyIndex(index: string, keep?: readonly string[]) {
    return this.inner.destroyIndex(index, keep)
  }
}

// ------------------------------------------------------------------------------------ the app

/** A store for one test, and how to move its clock (login-manager's clock moves with it). */
export interface RaceStore {
  readonly store: SessionStore
  /** The clock login-manager (and a MemoryStore) read, in milliseconds. */
  readonly now: () => number
  /** Moves the clock by `seconds`. */
  advance(seconds: number): void
  /** Deletes what the test wrote. */
  close(): Promise<void>
}

export interface RaceCtx {
  readonly manager: Manager
  readonly users: Map<string, Member>
  readonly gates: Gates
  /** The app's store, with hooks; `store.inner` is the real one. */
  readonly store: HookedStore
  readonly app: RunningApp
  readonly session: string
  readonly remember: string
  advance(seconds: number): void
  browser(cookies?: Record<string, string>): TestClient
}

function routes(gates: Gates, users: Map<string, Member>): RouteDef<Member>[] {
  const member = () => users.get('1') as Member
  const name = async (auth: RequestAuth<Member, AnyId>) => {
    const user = await auth.getUser()
    return user?.isAuthenticated ? user.name : 'Anonymous'
  }
  return [
    { path: '/login', handler: async ({ auth }) => String(await auth.loginUser(member())) },
    {
      path: '/login-remember',
      handler: async ({ auth }) => String(await auth.loginUser(member(), { remember: true })),
    },
    { path: '/username', handler: ({ auth }) => name(auth) },
    {
      path: '/protected',
      guard: 'login',
      handler: ({ auth }) => `Logged in as: ${auth.user?.name}`,
    },
    { path: '/logout', handler: async ({ auth }) => String(await auth.logoutUser()) },
    { path: '/is-remembered', handler: async ({ auth }) => String(await auth.isRemembered()) },
    {
      path: '/set',
      handler: ({ auth, query }) => {
        auth.session.set('k', query('v') ?? 'v')
        return 'set'
      },
    },
    {
      // Loads the user (a remember-me restore happens here) tagged with the gate's name, then
      // waits until the test releases it.
      path: '/gated',
      handler: async ({ auth, query }) => {
        const gate = query('gate') ?? 'gate'
        const answer = await requestName.run(gate, () => name(auth))
        await gates.arrive(gate)
        return answer
      },
    },
    {
      path: '/confirm-gated',
      handler: async ({ auth, query }) => {
        await auth.getUser()
        await gates.arrive(query('gate') ?? 'gate')
        await auth.confirmLogin()
        return String(await auth.isFresh())
      },
    },
    {
      path: '/login-gated',
      handler: async ({ auth, query }) => {
        await auth.getSession()
        await gates.arrive(query('gate') ?? 'gate')
        return String(await auth.loginUser(member()))
      },
    },
    {
      path: '/restore-then-fail',
      handler: async ({ auth }) => {
        assert.equal(await name(auth), 'Notch')
        throw new Error('the handler failed after the remember-me restore')
      },
    },
  ]
}

/** Serves a test app on `adapter` over the store `make` returns, runs `body`, closes both. */
export async function withRaceApp(
  adapter: AdapterHarness,
  make: () => RaceStore | Promise<RaceStore>,
  body: (ctx: RaceCtx) => Promise<void>,
  overrides: Partial<Options> = {},
): Promise<void> {
  const env = await make()
  const store = new HookedStore(env.store)
  const gates = new Gates()
  const users = new Map([['1', new Member('1', 'Notch')]])
  const manager: Manager = new LoginManager<Member, string>({
    secret: 'remember-races-suite-secret-Hq7Zt2Wv9Lk4Xm1Rb6',
    userLoader: (id) => users.get(String(id)) ?? null,
    loginView: '/login',
    now: env.now,
    ...overrides,
    session: { store, ...overrides.session },
  })
  const app = await adapter.start({ manager, routes: routes(gates, users) })
  try {
    await body({
      manager,
      users,
      gates,
      store,
      app,
      session: manager.options.session.name,
      remember: manager.options.remember.name,
      advance: (seconds) => env.advance(seconds),
      browser(cookies = {}) {
        const client = new TestClient(app.baseUrl)
        for (const [cookie, value] of Object.entries(cookies)) client.jar.set(cookie, value)
        return client
      },
    })
  } finally {
    await app.close()
    await env.close()
  }
}

// ------------------------------------------------------------------------------------ helpers

export function cookieIn(res: ClientResponse, name: string) {
  return res.setCookies.find((c) => c.name === name)
}

export function assertDeletes(res: ClientResponse, name: string): void {
  const cookie = cookieIn(res, name)
  assert.ok(
    cookie !== undefined && cookie.value === '' && (cookie.maxAge ?? 1) <= 0,
    `expected ${name} to be deleted, got ${cookie?.raw ?? 'no Set-Cookie'}`,
  )
}

export function jarValue(client: TestClient, name: string): string {
  const value = client.jar.get(name)?.value
  assert.ok(value !== undefined && value !== '', `the browser has no ${name} cookie`)
  return value
}

export async function text(client: TestClient, path: string): Promise<string> {
  const res = await client.get(path)
  assert.equal(res.status, 200, `${path} answered ${res.status}: ${res.body}`)
  return res.body
}

/** The store key of a remember cookie's token. */
function tokenKey(ctx: RaceCtx, value: string): string {
  const key = ctx.manager._rememberTokens?.keyOf(value)
  assert.ok(key !== undefined, `not a remember token of this app: ${value}`)
  return key
}

/** The `listSessions` handle of a session cookie: `tag.sha256(id)` (the cookie is `id~tag`, signed). */
function handleOf(value: string): string {
  const [id, tag] = value.slice(0, value.indexOf('.')).split('~') as [string, string]
  return `${tag}.${createHash('sha256').update(id).digest('base64url')}`
}

/** Logs `client` in with remember-me, then closes its browser: only the remember cookie is left. */
async function rememberedOnly(ctx: RaceCtx, client: TestClient): Promise<string> {
  assert.equal(await text(client, '/login-remember'), 'true')
  client.restartBrowser()
  assert.equal(client.jar.get(ctx.session), undefined)
  ctx.advance(1)
  return jarValue(client, ctx.remember)
}

// ------------------------------------------------------------------------------------ scenarios

/**
 * Registers every store-mode scenario (with `node:test`'s `it`) for one adapter and one kind of
 * store; call it inside a `describe`.
 */
export function rememberRaceScenarios(
  adapter: AdapterHarness,
  make: () => RaceStore | Promise<RaceStore>,
): void {
  const run = (body: (ctx: RaceCtx) => Promise<void>, overrides?: Partial<Options>) =>
    withRaceApp(adapter, make, body, overrides)

  it("§1 refreshEachRequest: a remember cookie with the user's tag that does not verify is never re-issued, never a 5xx", async () => {
    await run(
      async (ctx) => {
        const c = ctx.browser()
        assert.equal(await text(c, '/login-remember'), 'true')
        const session = jarValue(c, ctx.session)
        const valid = jarValue(c, ctx.remember)
        const tag = valid.slice(0, valid.indexOf('~'))
        for (const bad of [`${tag}~a,b`, `${tag}~a\\b`, `${tag}~not-signed`, `${tag}~`]) {
          const res = await ctx
            .browser({ [ctx.session]: session, [ctx.remember]: bad })
            .get('/username')
          assert.equal(res.status, 200, `${bad}: ${res.status} ${res.body}`)
          assert.equal(res.body, 'Notch', bad)
          assert.equal(cookieIn(res, ctx.remember), undefined, `${bad} was re-issued`)
        }
        // A valid one is refreshed: the same token, rebuilt from its verified parts.
        const res = await ctx
          .browser({ [ctx.session]: session, [ctx.remember]: valid })
          .get('/username')
        const refreshed = cookieIn(res, ctx.remember)
        assert.equal(refreshed?.value, valid)
        assert.ok((refreshed?.maxAge ?? 0) > 0)
      },
      { remember: { refreshEachRequest: true } },
    )
  })

  it("isRemembered() is true for a request carrying the user's store token (after a restore too)", async () => {
    await run(async (ctx) => {
      const c = ctx.browser()
      await text(c, '/login')
      assert.equal(await text(c, '/is-remembered'), 'false')
      await text(c, '/login-remember')
      assert.equal(await text(c, '/is-remembered'), 'true')
      c.restartBrowser()
      assert.equal(await text(c, '/is-remembered'), 'true', 'restored in this request')
      assert.equal(await text(c, '/is-remembered'), 'true')
      const tag = jarValue(c, ctx.remember).split('~')[0]
      const forged = ctx.browser({
        [ctx.session]: jarValue(c, ctx.session),
        [ctx.remember]: `${tag}~not-signed`,
      })
      assert.equal(await text(forged, '/is-remembered'), 'false')
    })
  })

  it('§2 inactive user: the remember cookie is deleted and its token revoked, never rotated', async () => {
    await run(async (ctx) => {
      const rejected = listen(ctx.manager, 'cookieRejected')
      const c = ctx.browser()
      const value = await rememberedOnly(ctx, c)
      const key = tokenKey(ctx, value)
      const member = ctx.users.get('1') as Member
      member.active = false
      const res = await c.get('/protected')
      assert.equal(res.status, 302, res.body)
      assertDeletes(res, ctx.remember)
      rejected.heardOne(({ cookie, reason }) => cookie === 'remember' && reason === 'inactive-user')
      assert.equal(await ctx.store.inner.get(key), null, 'the token is revoked')
      assert.equal(cookieIn(await c.get('/username'), ctx.remember), undefined)
      // Active again, the old cookie is still dead: it was revoked, not just ignored.
      member.active = true
      assert.equal(await text(ctx.browser({ [ctx.remember]: value }), '/username'), 'Anonymous')
    })
  })

  it("§2 stolen token: the thief's session ends, every token of the user is revoked, the event says what ended", async () => {
    await run(async (ctx) => {
      const reused = listen(ctx.manager, 'rememberTokenReused')
      const victim = ctx.browser()
      await text(victim, '/login-remember')
      const copied = jarValue(victim, ctx.remember)
      const other = ctx.browser()
      await text(other, '/login-remember')
      // The thief restores the victim's login from the copy (and gets the next validator).
      const thief = ctx.browser({ [ctx.remember]: copied })
      ctx.advance(1)
      assert.equal(await text(thief, '/username'), 'Notch')
      assert.notEqual(jarValue(thief, ctx.remember), copied)
      // The victim's browser comes back with the replaced validator, later than any parallel
      // request could.
      victim.restartBrowser()
      ctx.advance(31)
      const res = await victim.get('/username')
      assert.equal(res.body, 'Anonymous')
      assertDeletes(res, ctx.remember)
      reused.heardOne(
        ({ userId, ended }) => userId === '1' && ended.sessions === 2 && ended.tokens === 2,
        JSON.stringify(reused.calls.map(({ userId, ended }) => ({ userId, ended }))),
      )
      // The thief's restored session is over, and its remember cookie too.
      assert.equal(await text(thief, '/username'), 'Anonymous')
      thief.restartBrowser()
      assert.equal(await text(thief, '/username'), 'Anonymous')
      // The other device keeps its session, but its remember-me token is revoked.
      assert.equal(await text(other, '/username'), 'Notch')
      assert.equal((await ctx.manager.listSessions('1')).length, 1)
      other.restartBrowser()
      assert.equal(await text(other, '/username'), 'Anonymous')
    })
  })

  it('§2 rotation does not resurrect: confirmLogin after a concurrent logout writes no logged-in record', async () => {
    await run(async (ctx) => {
      const c = ctx.browser()
      assert.equal(await text(c, '/login'), 'true')
      const cookies = { [ctx.session]: jarValue(c, ctx.session) }
      const r1 = ctx.browser(cookies)
      const pending = r1.get('/confirm-gated?gate=r1')
      await ctx.gates.arrived('r1')
      assert.equal(await text(ctx.browser(cookies), '/logout'), 'true')
      ctx.gates.release('r1')
      const res = await pending
      assert.ok(res.status < 500, `${res.status} ${res.body}`)
      assert.deepEqual(await ctx.manager.listSessions('1'), [], 'the rotation wrote a session')
      assert.equal(await text(r1, '/username'), 'Anonymous')
      assert.equal(await text(ctx.browser(cookies), '/username'), 'Anonymous')
    })
  })

  it('§2 a login with credentials just checked is not held to the record it replaces (decided)', async () => {
    await run(async (ctx) => {
      const c = ctx.browser()
      await text(c, '/set?v=1')
      const cookies = { [ctx.session]: jarValue(c, ctx.session) }
      const r1 = ctx.browser(cookies)
      const pending = r1.get('/login-gated?gate=r1')
      await ctx.gates.arrived('r1')
      // Another tab ends the pre-login session meanwhile.
      assert.equal(await text(ctx.browser(cookies), '/logout'), 'true')
      ctx.gates.release('r1')
      assert.equal((await pending).body, 'true')
      assert.equal(await text(r1, '/username'), 'Notch')
      assert.equal((await ctx.manager.listSessions('1')).length, 1)
    })
  })

  for (const last of ['first', 'second'] as const) {
    it(`§2b two tabs, one remember cookie: rotated once, no false alarm (the ${last} writer answers last)`, async () => {
      await run(async (ctx) => {
        const reused = listen(ctx.manager, 'rememberTokenReused')
        const c = ctx.browser()
        const key = tokenKey(ctx, await rememberedOnly(ctx, c))
        // Both requests read the token before either writes, and `a` writes first.
        const read = barrier(2)
        const aWrote = deferred()
        ctx.store.hooks = {
          get: (k) => (k === key ? read() : undefined),
          write: (k) => (k === key && requestName.getStore() === 'b' ? aWrote.promise : undefined),
          wrote: (k) => {
            if (k === key && requestName.getStore() === 'a') aWrote.resolve()
          },
        }
        const a = c.get('/gated?gate=a')
        const b = c.get('/gated?gate=b')
        await Promise.all([ctx.gates.arrived('a'), ctx.gates.arrived('b')])
        const [earlier, later] = last === 'first' ? (['b', 'a'] as const) : (['a', 'b'] as const)
        ctx.gates.release(earlier)
        const first = await (earlier === 'a' ? a : b)
        ctx.gates.release(later)
        const second = await (later === 'a' ? a : b)
        assert.deepEqual([first.body, second.body], ['Notch', 'Notch'])
        const carried = [first, second].filter((res) => cookieIn(res, ctx.remember) !== undefined)
        assert.equal(carried.length, 1, 'exactly one response carries a new remember cookie')
        ctx.store.hooks = {}
        // Long after any grace window, the cookie the browser kept restores the login, twice.
        for (let round = 0; round < 2; round++) {
          c.restartBrowser()
          ctx.advance(40)
          assert.equal(await text(c, '/username'), 'Notch', `round ${round}`)
        }
        reused.heardNone()
      })
    })
  }

  it('§2b a rotation whose response fails (500): the cookie the browser kept stays valid, no alarm', async () => {
    await run(async (ctx) => {
      const reused = listen(ctx.manager, 'rememberTokenReused')
      const c = ctx.browser()
      const kept = await rememberedOnly(ctx, c)
      const failed = await c.get('/restore-then-fail')
      assert.equal(failed.status, 500)
      assert.equal(cookieIn(failed, ctx.remember), undefined)
      assert.equal(jarValue(c, ctx.remember), kept)
      ctx.advance(40)
      const res = await c.get('/username')
      assert.equal(res.body, 'Notch')
      assert.notEqual(cookieIn(res, ctx.remember)?.value ?? kept, kept, 'rotated now')
      c.restartBrowser()
      ctx.advance(40)
      assert.equal(await text(c, '/username'), 'Notch')
      reused.heardNone()
    })
  })

  it('§2b a rotation whose new session cannot be written (503): the cookie stays valid, no alarm', async () => {
    await run(async (ctx) => {
      const reused = listen(ctx.manager, 'rememberTokenReused')
      ctx.manager.on('storeError', () => {})
      const c = ctx.browser()
      const kept = await rememberedOnly(ctx, c)
      let fail = true
      ctx.store.hooks.write = (key, write) => {
        if (fail && write.mode === 'create' && key.includes(':s:')) {
          fail = false
          throw new Error('injected: the session write failed')
        }
      }
      const failed = await c.get('/username')
      assert.equal(failed.status, 503, failed.body)
      assert.equal(cookieIn(failed, ctx.remember), undefined)
      assert.equal(cookieIn(failed, ctx.session), undefined)
      assert.equal(jarValue(c, ctx.remember), kept)
      ctx.advance(40)
      assert.equal(await text(c, '/username'), 'Notch')
      c.restartBrowser()
      ctx.advance(40)
      assert.equal(await text(c, '/username'), 'Notch')
      reused.heardNone()
    })
  })

  it('§2b logoutEverywhere racing a restore wins: the restored session is not written, listed or logged in', async () => {
    await run(async (ctx) => {
      const c = ctx.browser()
      await rememberedOnly(ctx, c)
      // After the token was checked and rotated, before the restored session is written.
      const pending = c.get('/gated?gate=r')
      await ctx.gates.arrived('r')
      await ctx.manager.logoutEverywhere('1')
      ctx.gates.release('r')
      const res = await pending
      assert.ok(res.status < 500, `${res.status} ${res.body}`)
      assert.deepEqual(await ctx.manager.listSessions('1'), [])
      assert.equal(await text(c, '/username'), 'Anonymous')
      c.restartBrowser()
      assert.equal(await text(c, '/username'), 'Anonymous')
      assert.deepEqual(await ctx.manager.listSessions('1'), [])
    })
  })

  it('§2b logoutEverywhere between the token check and its rotation wins too', async () => {
    await run(async (ctx) => {
      const c = ctx.browser()
      const key = tokenKey(ctx, await rememberedOnly(ctx, c))
      let ended = false
      ctx.store.hooks.write = async (k) => {
        if (k !== key || ended) return
        ended = true
        assert.ok((await ctx.manager.logoutEverywhere('1')) >= 1)
      }
      const res = await c.get('/username')
      assert.equal(res.status, 200)
      assert.equal(res.body, 'Anonymous')
      assert.ok(ended)
      assert.deepEqual(await ctx.manager.listSessions('1'), [])
      assert.equal(await text(c, '/username'), 'Anonymous')
    })
  })

  it("§2b revokeSession racing a restore from that device's token wins: no session restored from it survives", async () => {
    await run(async (ctx) => {
      const device = ctx.browser()
      await text(device, '/login-remember')
      const session = jarValue(device, ctx.session)
      const remember = jarValue(device, ctx.remember)
      const cookies = { [ctx.session]: session, [ctx.remember]: remember }
      // A tab of the device with only the remember cookie, in flight during the revocation.
      const tab = ctx.browser({ [ctx.remember]: remember })
      ctx.advance(1)
      const pending = tab.get('/gated?gate=tab')
      await ctx.gates.arrived('tab')
      assert.equal(await ctx.manager.revokeSession('1', handleOf(session)), true)
      ctx.gates.release('tab')
      assert.ok((await pending).status < 500)
      assert.deepEqual(await ctx.manager.listSessions('1'), [])
      assert.equal(await text(tab, '/username'), 'Anonymous')
      assert.equal(await text(ctx.browser(cookies), '/username'), 'Anonymous')
    })
  })

  it("§2b revokeSession also ends a session restored from the device's token before it ran", async () => {
    await run(async (ctx) => {
      const device = ctx.browser()
      await text(device, '/login-remember')
      const session = jarValue(device, ctx.session)
      const tab = ctx.browser({ [ctx.remember]: jarValue(device, ctx.remember) })
      ctx.advance(1)
      assert.equal(await text(tab, '/username'), 'Notch')
      const other = ctx.browser()
      await text(other, '/login')
      assert.equal((await ctx.manager.listSessions('1')).length, 3)
      assert.equal(await ctx.manager.revokeSession('1', handleOf(session)), true)
      assert.equal(await text(tab, '/username'), 'Anonymous')
      assert.equal(await text(device, '/username'), 'Anonymous')
      assert.equal(await text(other, '/username'), 'Notch', 'a session of another device stays')
      assert.equal((await ctx.manager.listSessions('1')).length, 1)
    })
  })

  it('§2b a corrupt token record is no token: no 5xx, no alarm, the record deleted', async () => {
    await run(async (ctx) => {
      const reused = listen(ctx.manager, 'rememberTokenReused')
      const rejected = listen(ctx.manager, 'cookieRejected')
      const hash = 'A'.repeat(43)
      const corruptions: [string, Record<string, string>, string[]][] = [
        ['d non-numeric', { d: 'abc' }, []],
        ['d negative', { d: '-5' }, []],
        ['d zero', { d: '0' }, []],
        ['d huge', { d: '1e400' }, []],
        ['e non-numeric', { e: 'soon' }, []],
        ['no hash', {}, ['h']],
        ['a short hash', { h: 'short' }, []],
        ['u not JSON', { u: '{' }, []],
        ['u null', { u: 'null' }, []],
        ['v an array', { v: '[1]' }, []],
        ['ph without pt', { ph: hash }, []],
        ['pt without ph', { pt: '1' }, []],
        ['hu not a flag', { hu: 'yes' }, []],
        ['no user', {}, ['u']],
      ]
      for (const [label, set, remove] of corruptions) {
        const c = ctx.browser()
        const key = tokenKey(ctx, await rememberedOnly(ctx, c))
        assert.equal(
          await ctx.store.inner.write(key, { mode: 'update', set, remove, ttl: 3600 }),
          true,
        )
        rejected.reset()
        const res = await c.get('/username')
        assert.equal(res.status, 200, `${label}: ${res.status} ${res.body}`)
        assert.equal(res.body, 'Anonymous', label)
        assertDeletes(res, ctx.remember)
        rejected.heardOne(({ reason }) => reason === 'malformed', label)
        assert.equal(await ctx.store.inner.get(key), null, `${label}: the record is deleted`)
      }
      reused.heardNone()
    })
  })
}

/**
 * The remember-cookie formats without a store (the sealed cookie, Flask's): registers the
 * scenarios that apply to them too.
 */
export function rememberCookieScenarios(adapter: AdapterHarness, make: () => RaceStore): void {
  for (const format of ['sealed', 'flask'] as const) {
    it(`§2 inactive user, ${format} remember cookie: deleted, never used to log in`, async () => {
      await withRaceApp(
        adapter,
        make,
        async (ctx) => {
          const rejected = listen(ctx.manager, 'cookieRejected')
          const c = ctx.browser()
          await rememberedOnly(ctx, c)
          const member = ctx.users.get('1') as Member
          member.active = false
          const res = await c.get('/protected')
          assert.equal(res.status, 302, res.body)
          assertDeletes(res, ctx.remember)
          rejected.heardOne(
            ({ cookie, reason }) => cookie === 'remember' && reason === 'inactive-user',
          )
          assert.equal(c.jar.get(ctx.remember), undefined)
          member.active = true
          assert.equal(await text(c, '/username'), 'Anonymous')
        },
        { session: { store: undefined }, remember: { format } },
      )
    })
  }
}
