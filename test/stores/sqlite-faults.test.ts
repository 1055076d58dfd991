/**
 * SqliteStore when the database fails, at the store and over HTTP (the Express and Fetch
 * layouts, `onStoreError` 'fail' and 'anonymous'):
 *
 * - locked by another process (a child holding `BEGIN IMMEDIATE`) beyond `busyTimeout`: writes
 *   retry a bounded number of times, then reject with StoreUnavailableError (reason `timeout`);
 *   reads go on (WAL); logins answer 503 and set no cookie; all works again once the lock goes;
 * - read-only (a read-only handle; a file this process may not write, opened by an unprivileged
 *   child), and a full disk (`max_page_count`): StoreUnavailableError, nothing claimed as saved;
 * - corrupt: a file that is not a database fails at start with a clear error; pages overwritten
 *   under a running store fail each request, never the process;
 * - closed while requests wait for a lock: they reject, and so does everything after.
 *
 * No unhandled rejection or uncaught exception may happen in the whole file. Every file lives in
 * a temporary directory, deleted afterwards.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { LoginManager, LoginManagerError, type SessionStore, type UserId } from 'login-manager'
import { SqliteStore, StoreUnavailableError } from 'login-manager/sqlite'
import { adapters } from '../conformance/adapters/index.ts'
import type { AdapterHarness, RouteDef, RunningApp } from '../conformance/harness.ts'
import { type ClientResponse, TestClient } from '../support/client.ts'
import { listen, notch, USERS, type User } from '../support/users.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SECRET = 'sqlite-faults-suite-secret-Hq7Vn3Wc8Lp2Xz5Tb9'
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'
const dir = mkdtempSync(join(tmpdir(), 'lm-sqlite-faults-'))
let files = 0
const file = () => join(dir, `faults-${++files}.db`)

const problems: unknown[] = []
const onProblem = (error: unknown) => {
  problems.push(error)
}
before(() => {
  process.on('unhandledRejection', onProblem)
  process.on('uncaughtException', onProblem)
})
after(async () => {
  process.off('unhandledRejection', onProblem)
  process.off('uncaughtException', onProblem)
  await Promise.all([...lockers].map((child) => stopChild(child)))
  rmSync(dir, { recursive: true, force: true })
  assert.deepEqual(problems, [], 'unhandled rejections or uncaught exceptions')
})

// ------------------------------------------------------------------------------------ helpers

const lockers = new Set<ChildProcess>()

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = once(child, 'exit')
  child.kill('SIGKILL')
  await gone
}

// Another process of the machine holding the write lock until told to let go.
const LOCKER = `
const Database = require('better-sqlite3')
const db = new Database(process.argv[1])
db.exec('BEGIN IMMEDIATE')
db.prepare("SELECT count(*) FROM sqlite_schema").get()
process.stdout.write('locked\\n')
process.stdin.once('data', () => {
  db.exec('COMMIT')
  db.close()
  process.exit(0)
})
`

/** Locks `path` from another process; `release()` commits and waits for it to exit. */
async function lock(path: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', LOCKER, path], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  lockers.add(child)
  let output = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('locked')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the locker exited (${code}): ${output}`)))
  })
  return {
    async release() {
      const gone = once(child, 'exit')
      child.stdin?.write('release\n')
      await gone
      lockers.delete(child)
    },
  }
}

/** Asserts a StoreUnavailableError of `reason` whose message matches. */
function unavailable(reason: 'timeout' | 'error', message?: RegExp) {
  return (error: unknown) => {
    assert.ok(
      error instanceof StoreUnavailableError,
      `not a StoreUnavailableError: ${String(error)}`,
    )
    assert.equal(error.reason, reason, error.message)
    if (message !== undefined) assert.match(error.message, message)
    return true
  }
}

async function schemaStore(path: string, options: { commandTimeout?: number } = {}) {
  const store = new SqliteStore({ path, busyTimeout: 20, commandTimeout: 400, ...options })
  await store.createSchema()
  return store
}

const key = (n: number | string) => `lm:{faults}:s:${n}`
const create = (store: SqliteStore, k: string) =>
  store.write(k, { mode: 'create', set: { u: '1' }, ttl: 600, index: 'lm:{faults}:idx' })

// ------------------------------------------------------------------------------------ HTTP app

const ROUTES: RouteDef<User>[] = [
  { path: '/', handler: () => 'Welcome!' },
  {
    path: '/login-notch-remember',
    handler: async ({ auth }) => String(await auth.loginUser(notch, { remember: true })),
  },
  {
    path: '/username',
    handler: async ({ auth }) => (await auth.getUser())?.name ?? 'Anonymous',
  },
  {
    path: '/set',
    handler: ({ auth, query }) => {
      auth.session.set('k', query('v') ?? 'v')
      return 'set'
    },
  },
  { path: '/get', handler: ({ auth }) => JSON.stringify(auth.session.get('k') ?? null) },
]

interface App {
  readonly store: SessionStore
  readonly app: RunningApp
  readonly manager: LoginManager<User, UserId>
  browser(cookies?: Record<string, string>): TestClient
}

async function startApp(
  adapter: AdapterHarness,
  store: SessionStore,
  onStoreError: 'fail' | 'anonymous',
): Promise<App> {
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: (id) => USERS.get(Number(id)) ?? null,
    session: { store, onStoreError },
  })
  const app = await adapter.start({ manager, routes: ROUTES })
  return {
    store,
    app,
    manager,
    browser(cookies = {}) {
      const client = new TestClient(app.baseUrl)
      for (const [name, value] of Object.entries(cookies)) client.jar.set(name, value)
      return client
    },
  }
}

async function body(client: TestClient, path: string): Promise<string> {
  const res = await client.get(path)
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.body}`)
  return res.body
}

function assertUnavailable(res: ClientResponse, what: string): void {
  assert.equal(res.status, 503, `${what}: expected 503, got ${res.status} ${res.body}`)
  const set = res.setCookies.filter((c) => c.name === SESSION || c.name === REMEMBER)
  assert.deepEqual(
    set.map((c) => c.raw),
    [],
    `${what}: a 503 sets no session cookie`,
  )
}

const layouts = adapters.filter((a) => a.name === 'express' || a.name === 'fetch')

// ------------------------------------------------------------------------------------ locked

describe('SqliteStore: the database locked by another process', () => {
  it('writes retry a bounded number of times, then reject (timeout); reads go on; all works again after', async () => {
    const path = file()
    const store = await schemaStore(path)
    assert.equal(await create(store, key('before')), true)
    const held = await lock(path)
    try {
      await assert.rejects(create(store, key('during')), (error: unknown) => {
        unavailable(
          'timeout',
          /SqliteStore\.write .*locked by another connection \((\d+) attempts/,
        )(error)
        const attempts = Number(/\((\d+) attempts/.exec((error as Error).message)?.[1])
        assert.ok(attempts >= 2 && attempts <= 10, `attempts: ${attempts}`)
        assert.equal(((error as Error).cause as { code?: string }).code, 'SQLITE_BUSY')
        return true
      })
      // Many writes at once: every one rejects, none hangs, the process lives.
      const results = await Promise.allSettled([
        ...Array.from({ length: 20 }, (_, i) => create(store, key(`crowd-${i}`))),
        store.touch(key('before'), 60),
        store.destroy(key('before')),
        store.destroyIndex('lm:{faults}:idx'),
        store.cleanup(),
      ])
      for (const result of results) {
        assert.equal(result.status, 'rejected')
        unavailable('timeout')(result.status === 'rejected' ? result.reason : undefined)
      }
      // WAL: readers are not blocked by a writer.
      assert.deepEqual({ ...(await store.get(key('before'))) }, { u: '1' })
      assert.deepEqual(await store.members('lm:{faults}:idx'), [key('before')])
    } finally {
      await held.release()
    }
    assert.equal(await create(store, key('after')), true, 'the same store writes again')
    assert.equal(await store.get(key('during')), null, 'nothing refused was written')
    assert.equal(await store.get(key('crowd-0')), null)
    assert.notEqual(await store.get(key('before')), null, 'the refused destroy did nothing')
    await store.close()
  })

  it("the app's own Database: its timeout is the wait, then StoreUnavailableError", async () => {
    const path = file()
    const db = new Database(path, { timeout: 100 })
    db.pragma('journal_mode = WAL')
    const store = new SqliteStore({ database: db, commandTimeout: 300 })
    await store.createSchema()
    const held = await lock(path)
    try {
      await assert.rejects(create(store, key('own')), unavailable('timeout'))
      assert.equal(await store.get(key('own')), null)
    } finally {
      await held.release()
    }
    assert.equal(await create(store, key('own')), true)
    db.close()
  })

  for (const adapter of layouts) {
    for (const mode of ['fail', 'anonymous'] as const) {
      it(`${adapter.name}, onStoreError '${mode}': logins answer 503 while locked, sessions are read, it recovers`, async () => {
        const path = file()
        const store = await schemaStore(path)
        const ctx = await startApp(adapter, store, mode)
        const errors = listen(ctx.manager, 'storeError')
        try {
          const user = ctx.browser()
          assert.equal(await body(user, '/login-notch-remember'), 'true')
          const held = await lock(path)
          let fresh: TestClient
          try {
            assert.equal(await body(user, '/username'), 'Notch', 'reads go on while locked')
            fresh = ctx.browser()
            assertUnavailable(await fresh.get('/login-notch-remember'), 'a login while locked')
            const set = await user.get('/set?v=during')
            assertUnavailable(set, 'a session write while locked')
            assert.ok(errors.count >= 1)
            const error = errors.calls.at(-1)?.error
            assert.ok(error instanceof StoreUnavailableError && error.reason === 'timeout')
          } finally {
            await held.release()
          }
          assert.equal(
            await body(fresh, '/username'),
            'Anonymous',
            'the refused login left nothing',
          )
          assert.equal(await body(user, '/get'), 'null', 'nothing written while locked is claimed')
          assert.equal(await body(user, '/set?v=after'), 'set')
          assert.equal(await body(user, '/get'), '"after"')
          assert.equal(await body(fresh, '/login-notch-remember'), 'true')
          assert.equal(await body(fresh, '/username'), 'Notch')
        } finally {
          errors.off()
          await ctx.app.close()
          await store.close()
        }
      })
    }
  }
})

// ------------------------------------------------------------------------------------ read-only, full

describe('SqliteStore: a read-only or full database', () => {
  it('a read-only handle: reads answer, writes reject with the reason, nothing is written', async () => {
    const path = file()
    const writer = await schemaStore(path)
    await create(writer, key('ro'))
    await writer.close()
    const db = new Database(path, { readonly: true })
    const store = new SqliteStore({ database: db })
    await store.checkSchema()
    assert.deepEqual({ ...(await store.get(key('ro'))) }, { u: '1' })
    for (const operation of [
      create(store, key('ro-new')),
      store.touch(key('ro'), 60),
      store.destroy(key('ro')),
    ]) {
      await assert.rejects(operation, unavailable('error', /SQLITE_READONLY/))
    }
    assert.notEqual(await store.get(key('ro')), null)
    // Nothing to create: the schema is there, so a read-only database passes.
    await store.createSchema()
    db.close()
  })

  it('a full disk (max_page_count): writes reject, then succeed once there is room', async () => {
    const path = file()
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    const store = new SqliteStore({ database: db, cleanupInterval: 0 })
    await store.createSchema()
    const pages = Number(db.pragma('page_count', { simple: true }))
    db.pragma(`max_page_count = ${pages}`)
    const big = 'x'.repeat(60_000)
    let full: unknown
    for (let i = 0; i < 10 && full === undefined; i++) {
      await store
        .write(key(`full-${i}`), { mode: 'create', set: { big }, ttl: 600 })
        .catch((error: unknown) => {
          full = error
        })
    }
    unavailable('error', /SQLITE_FULL/)(full)
    db.pragma('max_page_count = 1000000')
    assert.equal(await store.write(key('room'), { mode: 'create', set: { big }, ttl: 600 }), true)
    db.close()
  })

  for (const adapter of layouts) {
    it(`${adapter.name}: a read-only database answers logins with 503, logged-in reads with 200`, async () => {
      const path = file()
      const writer = await schemaStore(path)
      const ctxWriter = await startApp(adapter, writer, 'fail')
      const user = ctxWriter.browser()
      assert.equal(await body(user, '/login-notch-remember'), 'true')
      const cookies = { [SESSION]: user.jar.get(SESSION)?.value as string }
      await ctxWriter.app.close()
      await writer.close()
      const db = new Database(path, { readonly: true })
      const ctx = await startApp(adapter, new SqliteStore({ database: db }), 'fail')
      try {
        assert.equal(await body(ctx.browser(cookies), '/username'), 'Notch')
        assertUnavailable(await ctx.browser().get('/login-notch-remember'), 'a login, read-only')
        assertUnavailable(await ctx.browser(cookies).get('/set?v=1'), 'a session write, read-only')
      } finally {
        await ctx.app.close()
        db.close()
      }
    })
  }

  it('a file this process may not write: a clear error at start, naming the file', async () => {
    const path = file()
    const writer = await schemaStore(path)
    await create(writer, key('perm'))
    await writer.close()
    const shared = join(dir, 'unwritable')
    mkdirSync(shared)
    const target = join(shared, 'sessions.db')
    writeFileSync(target, Buffer.from(spawnSync('cat', [path]).stdout))
    chmodSync(target, 0o444)
    chmodSync(shared, 0o555)
    chmodSync(dir, 0o755)
    const script = `
      import('login-manager/sqlite').then(({ SqliteStore }) => {
        try {
          new SqliteStore({ path: process.argv[1] })
          console.log(JSON.stringify({ opened: true }))
        } catch (error) {
          console.log(JSON.stringify({ code: error.code, message: error.message }))
        }
      })`
    // Root may write any file: the store is opened by an unprivileged child then.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
    const result = spawnSync(
      process.execPath,
      ['--conditions=login-manager-source', '--import', 'tsx', '-e', script, target],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, HOME: dir },
        ...asNobody,
      },
    )
    assert.equal(result.status, 0, result.stderr)
    const outcome = JSON.parse(result.stdout.trim()) as { code?: string; message?: string }
    assert.equal(outcome.code, 'ERR_INVALID_OPTION', result.stdout)
    assert.match(
      outcome.message ?? '',
      /could not open path ".*sessions\.db" \(SQLITE_(READONLY|CANTOPEN)\w*: .*\): check that the file and its directory may be written/,
    )
  })
})

// ------------------------------------------------------------------------------------ corrupt

describe('SqliteStore: a corrupt file', () => {
  it('a file that is not a database: the store refuses to start, saying so', () => {
    const path = file()
    writeFileSync(
      path,
      'this is not an SQLite database, just some text that is long enough '.repeat(100),
    )
    assert.throws(
      () => new SqliteStore({ path }),
      (error: unknown) => {
        assert.ok(error instanceof LoginManagerError)
        assert.equal(error.code, 'ERR_INVALID_OPTION')
        assert.match(
          error.message,
          /could not open path ".*" \(SQLITE_NOTADB: file is not a database\): it is not a readable SQLite database: restore it from a backup, or move it away/,
        )
        return true
      },
    )
  })

  it("the app's own Database on such a file: checkSchema says so; each request fails, the process lives", async () => {
    const path = file()
    writeFileSync(path, 'garbage '.repeat(1000))
    const db = new Database(path)
    const store = new SqliteStore({ database: db })
    await assert.rejects(store.checkSchema(), (error: unknown) => {
      assert.ok(error instanceof LoginManagerError && error.code === 'ERR_STORE_SCHEMA')
      assert.match(error.message, /not a readable SQLite database \(SQLITE_NOTADB/)
      return true
    })
    await assert.rejects(store.get(key('x')), unavailable('error', /SQLITE_NOTADB/))
    const ctx = await startApp(layouts[0] as AdapterHarness, store, 'anonymous')
    try {
      const res = await ctx.browser().get('/login-notch-remember')
      assert.equal(res.status, 503)
      assert.equal(await body(ctx.browser(), '/'), 'Welcome!')
    } finally {
      await ctx.app.close()
      db.close()
    }
  })

  it('pages overwritten under a running store: requests get 503 or anonymous, never a crash', async () => {
    const path = file()
    const setup = await schemaStore(path)
    for (let i = 0; i < 200; i++) await create(setup, key(`c-${i}`))
    await setup.close()
    const fd = openSync(path, 'r+')
    const pageSize = 4096
    // Page 1 (the header and schema) stays; the tables' pages become noise.
    writeSync(fd, Buffer.alloc(pageSize * 6, 0xa5), 0, pageSize * 6, pageSize)
    closeSync(fd)
    const store = new SqliteStore({ path })
    for (const adapter of layouts) {
      for (const mode of ['fail', 'anonymous'] as const) {
        const ctx = await startApp(adapter, store, mode)
        const errors = listen(ctx.manager, 'storeError')
        try {
          const res = await ctx.browser().get('/login-notch-remember')
          assert.equal(res.status, 503, `${adapter.name} ${mode}: ${res.status} ${res.body}`)
          assert.ok(errors.count >= 1)
          const error = errors.calls[0]?.error
          assert.ok(error instanceof StoreUnavailableError, String(error))
          assert.match(error.message, /SQLITE_(CORRUPT|NOTADB)/)
        } finally {
          errors.off()
          await ctx.app.close()
        }
      }
    }
    await store.close()
  })
})

// ------------------------------------------------------------------------------------ closed

describe('SqliteStore: closed while requests are in flight', () => {
  it('operations waiting for a lock reject when the store closes; close resolves; later ones reject', async () => {
    const path = file()
    const store = await schemaStore(path, { commandTimeout: 10_000 })
    await create(store, key('c'))
    const held = await lock(path)
    try {
      const waiting = [
        ...Array.from({ length: 5 }, (_, i) => create(store, key(`w-${i}`))),
        store.cleanup(),
      ].map((p) =>
        p.then(
          () => 'resolved',
          (error: unknown) => error,
        ),
      )
      // Each has made its first attempt (SQL runs in the call) and now waits for the lock.
      await store.close()
      for (const outcome of await Promise.all(waiting)) {
        unavailable('error', /the store is closed/)(outcome)
      }
      await assert.rejects(store.get(key('c')), unavailable('error', /closed/))
    } finally {
      await held.release()
    }
    const check = new SqliteStore({ path })
    assert.equal(await check.get(key('w-0')), null, 'nothing refused was written')
    assert.notEqual(await check.get(key('c')), null)
    await check.close()
  })

  it('over HTTP: a login in flight when the store closes answers 503, and so does the next', async () => {
    const path = file()
    const store = await schemaStore(path, { commandTimeout: 10_000 })
    let writing!: () => void
    const written = new Promise<void>((resolve) => {
      writing = resolve
    })
    // The store as the app sees it, telling the test when the login's write has started.
    const watched: SessionStore = {
      get: (k) => store.get(k),
      write: (k, w) => {
        const result = store.write(k, w)
        writing()
        return result
      },
      touch: (k, ttl, fields) => store.touch(k, ttl, fields),
      destroy: (k, index) => store.destroy(k, index),
      members: (index) => store.members(index),
      destroyIndex: (index, keep) => store.destroyIndex(index, keep),
    }
    const ctx = await startApp(layouts[0] as AdapterHarness, watched, 'fail')
    const held = await lock(path)
    try {
      const pending = ctx.browser().get('/login-notch-remember')
      // Its first attempt has run; it waits for the lock now.
      await written
      await store.close()
      assertUnavailable(await pending, 'the login in flight')
      assertUnavailable(await ctx.browser().get('/login-notch-remember'), 'a login after close')
      assert.equal(await body(ctx.browser(), '/'), 'Welcome!')
    } finally {
      await held.release()
      await ctx.app.close()
    }
  })
})
