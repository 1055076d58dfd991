/**
 * A failover under load, through a real adapter over HTTP: small Express apps on one shared
 * store (`onStoreError: 'fail'` and `'anonymous'`, each over the client under test), and
 * workers that log users in, ask for a protected page and log some out again, in a loop, while
 * the test kills a primary. Every answer is recorded with when its request was sent and when
 * it was answered, so that the test can hold each one to what `onStoreError` documents and
 * then count what the failover lost.
 *
 * @module
 */
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { sleep } from './support.ts'

/** An answer that does not come within this many milliseconds counts as a hang. */
const HANG_MS = 10_000

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

/** An app of the load: a login route, a protected route and a logout route. */
export interface LoadApp {
  /** Such as `fail (ioredis)`. */
  readonly name: string
  readonly mode: 'fail' | 'anonymous'
  /** The client behind its store (apps with the same client share the store). */
  readonly client: string
  readonly base: string
  /** How many `storeError` events it fired. */
  readonly storeErrors: () => number
  /** The message of the last `storeError`, for failure messages. */
  readonly lastStoreError: () => string
}

/**
 * Starts one Express app per entry on its own loopback port: `POST /login/:id` (remember-me
 * when `?remember=1`) answers 204, `GET /me` (`loginRequired`) the user's id, `POST /logout`
 * 204. Without a login view, an anonymous request to `/me` gets a 401.
 */
export async function startLoadApps(
  secret: string,
  entries: readonly {
    name: string
    client: string
    mode: 'fail' | 'anonymous'
    store: SessionStore
  }[],
): Promise<{ apps: LoadApp[]; close(): Promise<void> }> {
  const servers: Server[] = []
  const apps: LoadApp[] = []
  for (const { name, client, mode, store } of entries) {
    let errors = 0
    let last = ''
    const manager = new LoginManager<User>({
      secret,
      userLoader: (id) => (/^u[\w-]+$/.test(id) ? new User(id) : null),
      session: { store, onStoreError: mode },
    })
    // Counted, not printed: hundreds are expected during a failover.
    manager.on('storeError', ({ error }) => {
      errors++
      last = error instanceof Error ? error.message : String(error)
    })
    const login = expressLogin(manager)
    const app = express()
    app.use(login.middleware)
    app.post('/login/:id', async (req, res, next) => {
      try {
        await login.auth(req).loginUser(new User(req.params.id), {
          remember: req.query.remember === '1',
        })
        res.sendStatus(204)
      } catch (error) {
        next(error)
      }
    })
    app.get(
      '/me',
      login.loginRequired((req, res) => {
        res.type('text').send(req.auth.user.id)
      }),
    )
    app.post('/logout', async (req, res, next) => {
      try {
        await login.auth(req).logoutUser()
        res.sendStatus(204)
      } catch (error) {
        next(error)
      }
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', () => resolve()))
    servers.push(server)
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    apps.push({
      name,
      mode,
      client,
      base,
      storeErrors: () => errors,
      lastStoreError: () => last,
    })
  }
  return {
    apps,
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections()
              server.close(() => resolve())
            }),
        ),
      )
    },
  }
}

/** One request of the load and its answer. */
export interface LoadRecord {
  readonly app: LoadApp
  readonly kind: 'login' | 'me' | 'logout'
  readonly user: string
  /** `performance.now()` when it was sent, and when it was answered (or gave up). */
  readonly sentAt: number
  readonly answeredAt: number
  /** The HTTP status, or `hang` (no answer in time) or `network` (the connection failed). */
  readonly status: number | 'hang' | 'network'
  readonly body: string
  readonly retryAfter: string | null
}

/** A session the load was told exists: the login answered 204 (and a logout, if any, 204). */
export interface AckedSession {
  readonly user: string
  readonly cookie: string
  readonly app: LoadApp
  readonly sentAt: number
  readonly ackedAt: number
  /** Set when a logout of this session answered 204: it must then stay logged out. */
  logout?: { sentAt: number; ackedAt: number }
  /**
   * Set when a logout was sent but not acknowledged (a 503): it may have happened or not, as a
   * write that failed part-way or timed out may still be applied, so the session is not checked.
   */
  logoutUnknown?: true
}

async function send(
  app: LoadApp,
  kind: LoadRecord['kind'],
  method: string,
  path: string,
  user: string,
  cookie: string | undefined,
): Promise<{ record: LoadRecord; setCookies: string[] }> {
  const sentAt = performance.now()
  let status: LoadRecord['status']
  let body = ''
  let retryAfter: string | null = null
  let setCookies: string[] = []
  try {
    const res = await fetch(app.base + path, {
      method,
      redirect: 'manual',
      headers: cookie === undefined ? {} : { cookie },
      signal: AbortSignal.timeout(HANG_MS),
    })
    body = await res.text()
    status = res.status
    retryAfter = res.headers.get('retry-after')
    setCookies = res.headers.getSetCookie()
  } catch (err) {
    status = err instanceof Error && err.name === 'TimeoutError' ? 'hang' : 'network'
    body = err instanceof Error ? err.message : String(err)
  }
  return {
    record: { app, kind, user, sentAt, answeredAt: performance.now(), status, body, retryAfter },
    setCookies,
  }
}

/** The `Cookie` header a browser would send back after these `Set-Cookie` lines. */
function cookieHeader(setCookies: string[]): string {
  return setCookies
    .map((line) => line.split(';', 1)[0] as string)
    .filter((pair) => !pair.endsWith('='))
    .join('; ')
}

/** Workers logging users in and out through the apps until {@link Load.stop}. */
export class Load {
  readonly records: LoadRecord[] = []
  readonly sessions: AckedSession[] = []
  readonly #apps: readonly LoadApp[]
  readonly #workers: Promise<void>[] = []
  readonly #label: string
  #stopped = false

  /** `label` makes the user ids unique to this load (they pick the hash slots). */
  constructor(apps: readonly LoadApp[], label: string) {
    this.#apps = apps
    this.#label = label
  }

  /** Starts `perApp` workers on every app. */
  start(perApp = 2): void {
    for (const app of this.#apps) {
      for (let i = 0; i < perApp; i++) this.#workers.push(this.#work(app, `${app.mode}${i}`))
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#workers)
  }

  /** Logins answered 204 whose request was sent after `since`. */
  loginsSince(since: number, app?: LoadApp): number {
    return this.sessions.filter((s) => s.sentAt > since && (app === undefined || s.app === app))
      .length
  }

  /** Resolves once `count` logins sent after `since` have been acknowledged (on `app` if given). */
  async waitForLogins(count: number, since: number, app?: LoadApp, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms
    while (this.loginsSince(since, app) < count) {
      assert.ok(
        Date.now() < deadline,
        `fewer than ${count} logins ${app === undefined ? '' : `on ${app.name} `}succeeded within ${ms} ms: ${summary(this.records)}; last store errors: ${this.#apps.map((a) => `${a.name}: ${a.lastStoreError()}`).join('; ')}`,
      )
      await sleep(20)
    }
  }

  async #work(app: LoadApp, worker: string): Promise<void> {
    for (let n = 0; !this.#stopped; n++) {
      const user = `u${this.#label}-${worker}-${n}`
      const remember = n % 2 === 1
      const login = await send(
        app,
        'login',
        'POST',
        `/login/${user}${remember ? '?remember=1' : ''}`,
        user,
        undefined,
      )
      this.records.push(login.record)
      if (login.record.status !== 204) {
        await sleep(20)
        continue
      }
      const session: AckedSession = {
        user,
        cookie: cookieHeader(login.setCookies),
        app,
        sentAt: login.record.sentAt,
        ackedAt: login.record.answeredAt,
      }
      this.sessions.push(session)
      for (let i = 0; i < 3 && !this.#stopped; i++) {
        this.records.push((await send(app, 'me', 'GET', '/me', user, session.cookie)).record)
      }
      if (n % 4 === 3) {
        const logout = await send(app, 'logout', 'POST', '/logout', user, session.cookie)
        this.records.push(logout.record)
        if (logout.record.status === 204) {
          session.logout = { sentAt: logout.record.sentAt, ackedAt: logout.record.answeredAt }
        } else {
          session.logoutUnknown = true
        }
      }
    }
  }
}

/**
 * What `onStoreError` documents, answer by answer. With `'fail'`, a protected request whose
 * session cannot be read gets a 503 with `Retry-After`, never a 401 (a logged-in user never
 * looks logged out), except for a session the failover really lost (`lost`, known once it is
 * over). With `'anonymous'` it runs as anonymous, so the guard answers 401. Logins and logouts
 * answer 503 in both. Never a 500, never a hang, never a failed connection, and a 200 always
 * names the user who logged in.
 */
export function violations(records: readonly LoadRecord[], lost: ReadonlySet<string>): string[] {
  const found: string[] = []
  for (const r of records) {
    const where = `${r.app.name} ${r.kind} ${r.user}: ${r.status} ${r.body.slice(0, 200)}`
    if (r.status === 503) {
      if (r.retryAfter === null) found.push(`${where} (a 503 without Retry-After)`)
      continue
    }
    if (r.kind === 'me') {
      if (r.status === 200 && r.body === r.user) continue
      if (r.status === 401 && (r.app.mode === 'anonymous' || lost.has(r.user))) continue
    } else if (r.status === 204) {
      continue
    }
    found.push(where)
  }
  return found
}

/** Counts of answers by app, kind and status, for failure messages and diagnostics. */
export function summary(records: readonly LoadRecord[]): string {
  const counts = new Map<string, number>()
  for (const r of records) {
    const key = `${r.app.name} ${r.kind} ${r.status}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, n]) => `${key}: ${n}`)
    .join(', ')
}

/**
 * Asks `app` whether each session is still logged in, retrying 503s (the store may still be
 * settling). Returns the users whose session is gone, and those still logged in.
 */
export async function stillLoggedIn(
  app: LoadApp,
  sessions: readonly AckedSession[],
): Promise<{ gone: Set<string>; alive: Set<string> }> {
  const gone = new Set<string>()
  const alive = new Set<string>()
  const check = async (session: AckedSession) => {
    for (let attempt = 0; ; attempt++) {
      const { record } = await send(app, 'me', 'GET', '/me', session.user, session.cookie)
      if (record.status === 200 && record.body === session.user) {
        alive.add(session.user)
        return
      }
      if (record.status === 401) {
        gone.add(session.user)
        return
      }
      assert.ok(
        record.status === 503 && attempt < 50,
        `${app.name}, checking ${session.user} after the failover: ${record.status} ${record.body}`,
      )
      await sleep(100)
    }
  }
  // A few at a time, as a handful of browsers would.
  for (let i = 0; i < sessions.length; i += 8)
    await Promise.all(sessions.slice(i, i + 8).map(check))
  return { gone, alive }
}

/** How a test makes a failover happen, and how it knows it is over. */
export interface FailoverPlan {
  /** Whether acknowledged writes may be lost: yes for a crash, no for a coordinated failover. */
  readonly mayLose: boolean
  /** Resolves once the replica that will be promoted has everything written so far. */
  replicated(): Promise<void>
  /** Starts the failover (kills the primary, or asks for a manual failover). */
  trigger(): Promise<void>
  /** Resolves once a replica serves as primary (and the topology is whole again). */
  switched(): Promise<void>
}

/** What {@link failoverUnderLoad} measured, as lines for the test's diagnostics. */
export interface FailoverReport {
  readonly lines: string[]
}

/**
 * Runs the load on `apps`, makes the failover of `plan` happen in the middle of it, and holds
 * every answer and every acknowledged session to the rules:
 *
 * - during the switch, answers are what `onStoreError` documents ({@link violations});
 * - afterwards, every app logs users in and serves them again, by itself;
 * - sessions acknowledged before the replica had caught up with them (`settled`), and those
 *   whose login was sent once the failover had begun (`after`), are all still logged in, and
 *   every logout acknowledged in those windows still holds;
 * - between the two (`late`: acknowledged by the old primary, perhaps not yet replicated), a
 *   crash may lose sessions and undo logouts: they are counted, and a coordinated failover
 *   must lose none.
 */
export async function failoverUnderLoad(
  apps: readonly LoadApp[],
  label: string,
  plan: FailoverPlan,
): Promise<FailoverReport> {
  const load = new Load(apps, label)
  load.start(2)
  let stopped = false
  try {
    const started = performance.now()
    for (const app of apps) await load.waitForLogins(5, started, app)
    const checkpoint = performance.now()
    await plan.replicated()
    await load.waitForLogins(apps.length * 2, checkpoint)
    const triggered = performance.now()
    await plan.trigger()
    const begun = performance.now()
    await plan.switched()
    const switched = performance.now()
    for (const app of apps) await load.waitForLogins(3, switched, app)
    await load.stop()
    stopped = true

    // A login is at risk from when it was sent: its write may come before its answer.
    const window = (sentAt: number, ackedAt: number) =>
      ackedAt < checkpoint ? 'settled' : sentAt < begun ? 'late' : ('after' as const)
    const lost = new Set<string>()
    const undone: string[] = []
    const byWindow: Record<'settled' | 'late' | 'after', [number, number]> = {
      settled: [0, 0],
      late: [0, 0],
      after: [0, 0],
    }
    for (const app of apps.filter((a) => a.mode === 'fail')) {
      const sessions = load.sessions.filter(
        (s) => s.app.client === app.client && s.logoutUnknown === undefined,
      )
      const loggedIn = sessions.filter((s) => s.logout === undefined)
      const loggedOut = sessions.filter((s) => s.logout !== undefined)
      const { gone } = await stillLoggedIn(app, loggedIn)
      const { alive: back } = await stillLoggedIn(app, loggedOut)
      for (const s of loggedIn) {
        const w = window(s.sentAt, s.ackedAt)
        byWindow[w][0]++
        if (!gone.has(s.user)) continue
        byWindow[w][1]++
        lost.add(s.user)
        if (w !== 'late' || !plan.mayLose) {
          assert.fail(`${app.client}: the session of ${s.user} (${w}) was lost in the failover`)
        }
      }
      for (const s of loggedOut) {
        const logout = s.logout as { sentAt: number; ackedAt: number }
        const w = window(logout.sentAt, logout.ackedAt)
        if (!back.has(s.user)) continue
        undone.push(`${s.user} (${w})`)
        if (w !== 'late' || !plan.mayLose) {
          assert.fail(`${app.client}: the logout of ${s.user} (${w}) was undone by the failover`)
        }
      }
    }
    const problems = violations(load.records, lost)
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} answers break the rules`)
    for (const app of apps) {
      const served = load.records.some(
        (r) => r.app === app && r.kind === 'me' && r.status === 200 && r.sentAt > switched,
      )
      assert.ok(served, `${app.name} serves logged-in users again after the failover`)
    }

    const during = load.records.filter((r) => r.sentAt >= triggered && r.sentAt < switched)
    const slowest = Math.max(0, ...during.map((r) => r.answeredAt - r.sentAt))
    const lines = [
      `answers: ${summary(load.records)}`,
      `during the switch (${Math.round(switched - triggered)} ms): ${during.length} requests, ${during.filter((r) => r.status === 503).length} answered 503, the slowest in ${Math.round(slowest)} ms`,
    ]
    for (const [w, [total, missing]] of Object.entries(byWindow)) {
      lines.push(`${w}: ${total} sessions checked, ${missing} lost`)
    }
    lines.push(`logouts undone: ${undone.length === 0 ? 'none' : undone.join(', ')}`)
    const unknown = load.sessions.filter((s) => s.logoutUnknown).length
    lines.push(`logouts answered 503 (not checked: they may have happened): ${unknown}`)
    lines.push(`storeError events: ${apps.map((a) => `${a.name} ${a.storeErrors()}`).join(', ')}`)
    return { lines }
  } finally {
    if (!stopped) await load.stop()
  }
}
