// Keeps the README and docs/ honest: embedded snippets are the files under examples/snippets
// (which tsc type-checks), relative links resolve, the documented defaults, error codes and
// events match the code, and the snippets do what the docs say they do: Express apps through
// supertest, Hono through app.request, Fastify through inject, Koa through supertest on
// app.callback(), Fetch handlers by calling them, server-side sessions on a MemoryStore. The
// Redis snippets need a Redis server, so they are only type-checked.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import express from 'express'
import {
  DEFAULTS,
  decodeCookie,
  encodeCookie,
  LoginManager,
  MemoryStore,
  makeNextParam,
  safeNextUrl,
  UserMixin,
} from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { testLogin } from 'login-manager/testing'
import request from 'supertest'
import * as configuration from '../../examples/snippets/configuration.ts'
import * as customHandlers from '../../examples/snippets/custom-handlers.ts'
import { attachAuditLog } from '../../examples/snippets/events.ts'
import * as expressAdapter from '../../examples/snippets/express-adapter.ts'
import * as expressStore from '../../examples/snippets/express-store.ts'
import * as fastifyApp from '../../examples/snippets/fastify-app.ts'
import * as fetchApp from '../../examples/snippets/fetch-app.ts'
import * as fetchBun from '../../examples/snippets/fetch-bun.ts'
import * as fetchDeno from '../../examples/snippets/fetch-deno.ts'
import * as fetchNextjs from '../../examples/snippets/fetch-nextjs.ts'
import * as fetchNode from '../../examples/snippets/fetch-node.ts'
import * as flaskPort from '../../examples/snippets/flask-port.ts'
import * as freshLogins from '../../examples/snippets/fresh-logins.ts'
import * as guards from '../../examples/snippets/guards.ts'
import * as honoApp from '../../examples/snippets/hono-app.ts'
import * as koaApp from '../../examples/snippets/koa-app.ts'
import * as loginAndLogout from '../../examples/snippets/login-and-logout.ts'
import * as quickstart from '../../examples/snippets/quickstart.ts'
import * as rememberFlask from '../../examples/snippets/remember-flask.ts'
import * as rememberMe from '../../examples/snippets/remember-me.ts'
import * as revocation from '../../examples/snippets/revocation.ts'
import * as scalingOut from '../../examples/snippets/scaling-out.ts'
import * as sessionProtection from '../../examples/snippets/session-protection.ts'
import * as sessionStore from '../../examples/snippets/session-store.ts'
import * as sessions from '../../examples/snippets/sessions.ts'
import * as testingFetch from '../../examples/snippets/testing-fetch.ts'
import * as testingStore from '../../examples/snippets/testing-store.ts'
import * as testingSupertest from '../../examples/snippets/testing-supertest.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const read = (file: string) => readFileSync(join(root, file), 'utf8')
const docs = readdirSync(join(root, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`)
const markdownFiles = ['README.md', ...docs]

process.env.SESSION_SECRET ??= randomBytes(32).toString('base64url')
process.env.FLASK_SECRET_KEY ??= randomBytes(32).toString('hex')

// ---------------------------------------------------------------- markdown helpers

interface Snippet {
  file: string
  line: number
  target: string
  block: string | undefined
}

const MARKER = /^<!-- snippet: (\S+) -->$/

/** Every snippet marker with the fenced block right after it (undefined when there is none). */
function snippets(file: string): Snippet[] {
  const lines = read(file).split('\n')
  const found: Snippet[] = []
  lines.forEach((text, index) => {
    const match = MARKER.exec(text)
    if (match === null) return
    let block: string | undefined
    if (lines[index + 1] === '```ts') {
      const end = lines.indexOf('```', index + 2)
      if (end !== -1) block = `${lines.slice(index + 2, end).join('\n')}\n`
    }
    found.push({ file, line: index + 1, target: match[1] as string, block })
  })
  return found
}

/** The text outside fenced code blocks and inline code, where links and headings live. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '')
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1 for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const match of text.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/^#{1,6} +(.+)$/gm)) {
    const slug = (match[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    out.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return out
}

/** The rows of every Markdown table in `text`, each as its trimmed cells, keyed by header. */
function tables(text: string): Array<Array<Record<string, string>>> {
  const result: Array<Array<Record<string, string>>> = []
  const lines = text.split('\n')
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim())
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]?.startsWith('|') || !/^\|(\s*:?-+:?\s*\|)+$/.test(lines[i + 1] ?? '')) continue
    const header = cells(lines[i] as string)
    const rows: Array<Record<string, string>> = []
    let j = i + 2
    for (; lines[j]?.startsWith('|'); j++) {
      const row = cells(lines[j] as string)
      rows.push(Object.fromEntries(header.map((name, k) => [name, row[k] ?? ''])))
    }
    result.push(rows)
    i = j
  }
  return result
}

const firstCode = (cell: string | undefined) => /`([^`]+)`/.exec(cell ?? '')?.[1]

/** DEFAULTS flattened to `name` / `session.name` keys, each as the literal the docs show. */
function documentedDefaults(): Map<string, string> {
  const literal = (value: unknown): string =>
    typeof value === 'string'
      ? `'${value}'`
      : Array.isArray(value)
        ? `[${value.map(literal).join(', ')}]`
        : String(value)
  const out = new Map<string, string>()
  for (const [key, value] of Object.entries(DEFAULTS)) {
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        out.set(`${key}.${inner}`, literal(innerValue))
      }
    } else {
      out.set(key, literal(value))
    }
  }
  return out
}

/** The option rows (first column `name`) of every table with Option and Default columns. */
function optionRows(file: string): Map<string, Record<string, string>> {
  const rows = new Map<string, Record<string, string>>()
  for (const table of tables(read(file))) {
    for (const row of table) {
      if (!('Option' in row) || !('Default' in row)) continue
      const name = firstCode(row.Option)
      if (name !== undefined) rows.set(name, row)
    }
  }
  return rows
}

// ---------------------------------------------------------------- documentation checks

describe('docs: snippets', () => {
  const all = markdownFiles.flatMap(snippets)

  it('finds snippets in the README and in docs/', () => {
    assert.ok(all.some((s) => s.file === 'README.md'))
    assert.ok(all.filter((s) => s.file.startsWith('docs/')).length >= 12)
  })

  for (const snippet of all) {
    it(`${snippet.file}:${snippet.line} embeds ${snippet.target} verbatim`, () => {
      assert.match(snippet.target, /^examples\/snippets\/[\w-]+\.ts$/)
      assert.ok(existsSync(join(root, snippet.target)), `${snippet.target} is missing`)
      assert.notEqual(snippet.block, undefined, 'a ```ts fence must follow the marker')
      assert.equal(snippet.block, read(snippet.target))
    })
  }

  it('every file in examples/snippets is embedded somewhere', () => {
    const embedded = new Set(all.map((s) => s.target))
    for (const name of readdirSync(join(root, 'examples/snippets'))) {
      assert.ok(embedded.has(`examples/snippets/${name}`), `${name} is not embedded in any page`)
    }
  })

  it('every docs page has at least one runnable snippet', () => {
    for (const file of docs) {
      assert.ok(snippets(file).length > 0, `${file} has no snippet`)
    }
  })
})

describe('docs: links', () => {
  for (const file of markdownFiles) {
    it(`${file}: relative links and anchors resolve`, () => {
      const text = read(file)
      for (const match of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
        const href = match[1] as string
        if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue
        const [path, anchor] = href.split('#') as [string, string | undefined]
        const target = path === '' ? file : normalize(join(dirname(file), path))
        assert.ok(!relative(root, join(root, target)).startsWith('..'), `${href} leaves the repo`)
        assert.ok(existsSync(join(root, target)), `${file}: ${href} does not exist`)
        if (anchor !== undefined && target.endsWith('.md')) {
          assert.ok(anchors(read(target)).has(anchor), `${file}: ${href}: no such heading`)
        }
      }
    })
  }

  it('the README links to every docs page', () => {
    const readme = read('README.md')
    for (const file of docs) assert.ok(readme.includes(`](${file})`), `README misses ${file}`)
  })
})

describe('docs: defaults, errors and events match the code', () => {
  for (const file of ['README.md', 'docs/configuration.md']) {
    it(`${file}: the options table shows every default of DEFAULTS`, () => {
      const rows = optionRows(file)
      for (const [name, expected] of documentedDefaults()) {
        const row = rows.get(name)
        assert.ok(row, `${file}: no row for ${name}`)
        assert.equal(firstCode(row.Default), expected, `${file}: default of ${name}`)
      }
    })

    it(`${file}: durations are documented in seconds with the exact defaults`, () => {
      const rows = optionRows(file)
      const expected: Record<string, string> = {
        'session.idleTimeout': '3600',
        'session.absoluteTimeout': '43200',
        'session.touchInterval': '60',
        'remember.duration': '2592000',
        'session.name': "'__Host-session'",
        'remember.name': "'__Host-remember'",
      }
      for (const [name, value] of Object.entries(expected)) {
        const row = rows.get(name)
        assert.equal(firstCode(row?.Default), value, `${file}: default of ${name}`)
        if (!name.endsWith('.name')) assert.match(row?.Unit ?? '', /^seconds/, `unit of ${name}`)
      }
    })
  }

  it('the README marks secret as the one required option', () => {
    const rows = optionRows('README.md')
    assert.equal(rows.get('secret')?.Required, 'required')
    for (const [name, row] of rows) {
      if (name !== 'secret') assert.match(row.Required ?? '', /^optional/, name)
    }
  })

  it('the README error table lists every ErrorCode, and nothing else', () => {
    const source = read('src/shared/errors.ts')
    const union = /export type ErrorCode =([^;]*?)\n\n/s.exec(source)?.[1] ?? source
    const codes = [...union.matchAll(/'(ERR_[A-Z_]+)'/g)].map((m) => m[1])
    assert.ok(codes.length >= 8)
    const documented = tables(read('README.md'))
      .flat()
      .map((row) => firstCode(row.Code))
      .filter((code) => code !== undefined)
    assert.deepEqual([...documented].sort(), [...new Set(codes)].sort())
  })

  it('docs/events.md describes every event of LoginManagerEvents', () => {
    const source = read('src/core/events.ts')
    const body = /interface AuthEvents[^{]*\{([\s\S]*?)\n\}/.exec(source)?.[1] ?? ''
    const events = [...body.matchAll(/^ {2}(\w+): \{/gm)].map((m) => m[1])
    assert.equal(events.length, 13)
    const documented = tables(read('docs/events.md'))
      .flat()
      .map((row) => firstCode(row.Event))
    for (const event of events) assert.ok(documented.includes(event), `${event} is undocumented`)
  })

  it('README.md and docs/configuration.md document the session store options', () => {
    const resolved = new LoginManager<UserMixin>({
      secret: process.env.SESSION_SECRET as string,
      userLoader: () => null,
    }).options.session
    for (const file of ['README.md', 'docs/configuration.md']) {
      const rows = optionRows(file)
      assert.ok(rows.has('session.store'), `${file}: no row for session.store`)
      const row = rows.get('session.onStoreError')
      assert.equal(firstCode(row?.Default), `'${resolved.onStoreError}'`, file)
    }
  })

  it('no page still calls the framework adapters or the session stores planned', () => {
    for (const file of markdownFiles) assert.doesNotMatch(read(file), /\bplanned\b/i, file)
  })

  it('the flask-format examples in the docs are right', () => {
    const cookie = encodeCookie('1', 'deterministic')
    assert.ok(cookie.startsWith('1|0e9e6e98'))
    assert.equal(decodeCookie(cookie, ['deterministic']), '1')
    assert.equal(makeNextParam('/login', 'http://localhost//evil.com/x'), '/evil.com/x')
    assert.equal(safeNextUrl('/%2F%2Fx'), '/%2F%2Fx')
    for (const bad of ['//evil.com', '/\\evil.com', 'javascript:alert(1)', 'https://evil.com/']) {
      assert.equal(safeNextUrl(bad), null, bad)
    }
  })
})

// ---------------------------------------------------------------- the snippets run

const cookiesOf = (res: request.Response) => res.get('Set-Cookie') ?? []
const pairsOf = (res: request.Response) => cookiesOf(res).map((c) => c.replace(/;.*/, ''))

describe('snippets: they work as documented', () => {
  it('quickstart + testing-supertest', async () => {
    const t = testingSupertest
    await t.anonymousVisitorsAreSentToLogin()
    await t.loggedInUsersSeeThePage()
    await t.theLoginFormLogsInAndOut()
  })

  it('quickstart: JSON clients get 401, unsafe next falls back', async () => {
    const { createApp } = quickstart
    const app = createApp()
    await request(app).get('/protected').set('Accept', 'application/json').expect(401)
    await request(app)
      .post('/login?next=%2F%2Fevil.com')
      .type('form')
      .send({ email: 'leafstorm', password: 'secret' })
      .expect('Location', '/protected')
  })

  it('fresh-logins + testing-fetch', async () => {
    const t = testingFetch
    await t.rememberedLoginsAreNotFresh()
  })

  it('fresh-logins: reauthenticating makes the login fresh', async () => {
    const { createApp, createManager, User } = freshLogins
    const ada = new User('ada', 'ada@example.com', 'pw')
    const manager = createManager(new Map([['ada', ada]]))
    const app = createApp(manager)
    const cookie = await testLogin(manager, ada, { fresh: false })
    // The form page of the change asks for the password: it is served, and it keeps `next`.
    const stale = await request(app).get('/account/email').set('Cookie', cookie).expect(302)
    assert.equal(stale.headers.location, '/reauthenticate?next=%2Faccount%2Femail')
    const asked = await request(app)
      .get(stale.headers.location as string)
      .set('Cookie', pairsOf(stale))
      .expect(200)
    assert.match(asked.text, /Please enter your password again to continue\./)
    assert.match(asked.text, /action="\/reauthenticate\?next=%2Faccount%2Femail"/)
    await request(app)
      .post('/reauthenticate?next=%2Faccount%2Femail')
      .set('Cookie', cookie)
      .type('form')
      .send({ password: 'wrong' })
      .expect(401)
    const res = await request(app)
      .post('/reauthenticate?next=%2Faccount%2Femail')
      .set('Cookie', cookie)
      .type('form')
      .send({ password: 'pw' })
      .expect(303)
      .expect('Location', '/account/email')
    // Back on the form with a GET, now fresh; the change itself goes through.
    const form = await request(app).get('/account/email').set('Cookie', pairsOf(res)).expect(200)
    assert.match(form.text, /<form method="POST" action="\/account\/email">/)
    await request(app)
      .post('/account/email')
      .set('Cookie', pairsOf(res))
      .type('form')
      .send({ email: 'ada@lovelace.example' })
      .expect(200, 'E-mail of ada changed')
    assert.equal(ada.email, 'ada@lovelace.example')
  })

  it('sessions: cart, flashes, delete, clear', async () => {
    const { createApp } = sessions
    const app = createApp(() => new UserMixin())
    const first = await request(app).post('/cart').type('form').send({ item: 'tea' })
    const second = await request(app)
      .post('/cart')
      .set('Cookie', pairsOf(first))
      .type('form')
      .send({ item: 'milk' })
    const cart = await request(app).get('/cart').set('Cookie', pairsOf(second))
    assert.deepEqual(cart.body, {
      cart: ['tea', 'milk'],
      keys: ['cart'],
      messages: ['Added one item', 'Added 2 items'],
    })
    assert.match(cart.headers.vary ?? '', /Cookie/)
    const cleared = await request(app).post('/forget-me').set('Cookie', pairsOf(second))
    assert.ok(cookiesOf(cleared).some((c) => c.startsWith('__Host-session=;')))
  })

  it('login-and-logout: async loader, disabled accounts, API keys', async () => {
    const { Account, createApp } = loginAndLogout
    const ann = new Account('1', 'Ann')
    const bob = new Account('2', 'Bob', true)
    const keyHash = createHash('sha256').update('key-1').digest('hex')
    const app = createApp({
      byId: async (id) => ({ '1': ann, '2': bob })[id] ?? null,
      byApiKeyHash: async (hash) => (hash === keyHash ? ann : null),
      checkPassword: async (name) => [ann, bob].find((a) => a.name === name) ?? null,
    })
    const login = await request(app).post('/api/login').send({ name: 'Ann', password: 'x' })
    assert.deepEqual(login.body, { id: '1', fresh: true })
    await request(app).post('/api/login').send({ name: 'Bob', password: 'x' }).expect(403)
    const me = await request(app).get('/api/me').set('Cookie', pairsOf(login))
    assert.deepEqual(me.body, { id: '1', anonymous: false, authenticated: true })
    const anon = await request(app).get('/api/me')
    assert.deepEqual(anon.body, { id: null, anonymous: true, authenticated: false })
    const api = await request(app).get('/api/profile').set('Authorization', 'Bearer key-1')
    assert.deepEqual(api.body, { name: 'Ann' })
    assert.equal(cookiesOf(api).length, 0, 'a request-loader login is not stored')
  })

  it('remember-me: restore, then logout everywhere revokes other devices', async () => {
    const { createApp, Member } = rememberMe
    const members = new Map([['mo', new Member('mo')]])
    const app = createApp(members)
    const phone = await request(app).post('/login/mo').type('form').send({ remember: 'on' })
    const remember = pairsOf(phone).filter((c) => c.startsWith('__Host-remember='))
    assert.equal(remember.length, 1)
    const restored = await request(app).get('/whoami').set('Cookie', remember).expect(200)
    assert.deepEqual(restored.body, { id: 'mo', fresh: false, remembered: true })
    const laptop = await request(app).post('/login/mo').type('form').send({})
    await request(app).post('/logout-everywhere').set('Cookie', pairsOf(laptop)).expect(204)
    const revoked = await request(app).get('/whoami').set('Cookie', remember)
    assert.equal(revoked.status, 401)
  })

  it('remember-flask: round trip and manager', async () => {
    const { createManager, roundTrip } = rememberFlask
    assert.equal(roundTrip('deterministic', '1'), '1')
    assert.equal(createManager(new Map()).options.remember.format, 'flask')
    // docs/remember-me.md: the Flask format cannot be combined with sessionVersion.
    assert.throws(
      () =>
        new LoginManager<UserMixin>({
          secret: process.env.SESSION_SECRET as string,
          userLoader: () => null,
          sessionVersion: () => 1,
          remember: { format: 'flask' },
        }),
      { code: 'ERR_INVALID_OPTION' },
    )
  })

  it('session-protection: strong mode drops a login used from another client', async () => {
    const { createApp } = sessionProtection
    class U extends UserMixin {
      constructor(readonly id: string) {
        super()
      }
    }
    const app = createApp((id) => new U(id))
    const manager = new LoginManager<U>({
      secret: process.env.SESSION_SECRET as string,
      userLoader: (id) => new U(id),
    })
    const cookie = await testLogin(manager, new U('7'))
    const first = await request(app).get('/').set('Cookie', cookie).set('User-Agent', 'one')
    assert.equal(first.status, 200)
    const bound = pairsOf(first).join('; ')
    await request(app).get('/').set('Cookie', bound).set('User-Agent', 'one').expect(200)
    await request(app).get('/').set('Cookie', bound).set('User-Agent', 'two').expect(302)
  })

  it('guards: prefixes, router guard, JSON', async () => {
    const { createApp, User } = guards
    const app = createApp(new Map([['root', new User('root', true)]]))
    await request(app).get('/profile').expect(302).expect('Location', '/login?next=%2Fprofile')
    await request(app)
      .get('/admin/users')
      .expect(302)
      .expect('Location', '/admin/login?next=%2Fadmin%2Fusers')
    await request(app).get('/api/me').expect(401)
    await request(app).options('/profile').expect(200)
    await request(app).get('/maybe').expect(200)
    await request(app).get('/maybe?strict=1').expect(302)
  })

  it('custom-handlers: function views, session next, forced host, custom refresh', async () => {
    const { createApp, User } = customHandlers
    const users = new Map([['u', new User('u')]])
    const app = createApp(users)
    await request(app)
      .get('/shop/basket')
      .expect(302)
      .expect('Location', '//www.example.com/shop/sign-in')
    await request(app)
      .get('/settings')
      .expect(302)
      .expect('Location', '//www.example.com/auth/login')
    const manager = new LoginManager<customHandlers.User>({
      secret: process.env.SESSION_SECRET as string,
      userLoader: (id) => users.get(id) ?? null,
    })
    const cookie = await testLogin(manager, new User('u'), { fresh: false })
    await request(app)
      .get('/settings')
      .set('Cookie', cookie)
      .set('Accept', 'application/json')
      .expect(401)
      .expect('WWW-Authenticate', 'Password')
    await request(app)
      .get('/settings')
      .set('Cookie', cookie)
      .set('Accept', 'text/html')
      .expect(303)
      .expect('Location', '/auth/again')
  })

  it('events: the audit log sees a login', async () => {
    const manager = new LoginManager<UserMixin>({
      secret: process.env.SESSION_SECRET as string,
      userLoader: () => null,
    })
    const entries: Array<Record<string, unknown>> = []
    const off = attachAuditLog(manager, (entry) => entries.push(entry))
    const login = expressLogin(manager)
    const app = express()
    app.use(login.middleware)
    app.get('/in', async (req, res) => {
      const user = Object.assign(new UserMixin(), { id: 'z' })
      await login.auth(req).loginUser(user)
      res.end()
    })
    await request(app).get('/in').expect(200)
    assert.equal(entries[0]?.event, 'login')
    assert.equal(entries[0]?.user, 'z')
    off()
    await request(app).get('/in')
    assert.equal(entries.length, 1)
  })

  it('express-adapter, configuration and flask-port build', async () => {
    const adapter = expressAdapter
    const users = new Map([['a', new adapter.User('a', 'Ada')]])
    const app = adapter.createApp(users)
    assert.equal((await request(app).get('/')).text, 'Hello, stranger')
    assert.deepEqual((await request(app).get('/status')).body, { loggedIn: false })
    await request(app).get('/members/billing').expect(302)
    // Behind the middleware: guards, login.auth(req) and req.auth all see the login.
    const ada = await testLogin(
      new LoginManager<expressAdapter.User>({
        secret: process.env.SESSION_SECRET as string,
        userLoader: (id) => users.get(id) ?? null,
      }),
      users.get('a') as expressAdapter.User,
    )
    assert.equal((await request(app).get('/').set('Cookie', ada)).text, 'Hello, Ada')
    assert.equal((await request(app).get('/dashboard').set('Cookie', ada)).text, 'Dashboard of Ada')
    assert.deepEqual((await request(app).get('/status').set('Cookie', ada)).body, {
      loggedIn: true,
    })
    await request(app).get('/members/billing').set('Cookie', ada).expect(200, 'Billing for Ada')

    const manager = configuration.createManager(new Map())
    assert.equal(manager.options.session.idleTimeout, DEFAULTS.session.idleTimeout)

    assert.equal(flaskPort.createManager(new Map()).options.sessionProtection, 'strong')
  })

  for (const mode of [
    { name: 'cookie sessions', store: () => undefined },
    { name: 'MemoryStore', store: () => new MemoryStore() },
  ]) {
    it(`express-store: guards, the middleware, a sub-app (${mode.name})`, async () => {
      const users = new Map([['ann', new expressStore.User('ann')]])
      const app = expressStore.createApp(users, mode.store())
      const anonymous = await request(app).get('/inbox').expect(302)
      assert.equal(anonymous.headers.location, '/login?next=%2Finbox')
      const form = await request(app).get('/login').set('Cookie', pairsOf(anonymous)).expect(200)
      assert.deepEqual(
        form.body.map((f: { message: string }) => f.message),
        ['Please log in to access this page.'],
      )
      assert.deepEqual((await request(app).get('/api/me').expect(200)).body, { id: null })
      const login = await request(app).post('/login/ann').expect(204)
      const cookie = pairsOf(login)
      const notices = await request(app).get('/notices').set('Cookie', cookie).expect(200)
      assert.deepEqual(
        notices.body.map((f: { message: string }) => f.message),
        ['Welcome, ann'],
      )
      // A store keeps the same cookie; a cookie session sends the updated one.
      const after = pairsOf(notices).length > 0 ? pairsOf(notices) : cookie
      const inbox = await request(app).get('/inbox').set('Cookie', after).expect(200)
      assert.deepEqual(inbox.body, { user: 'ann', flashes: [] })
      assert.deepEqual((await request(app).get('/api/me').set('Cookie', cookie)).body, {
        id: 'ann',
      })
      await request(app).post('/login/nobody').expect(404)
    })
  }
})

// ---------------------------------------------------------------- other frameworks and stores

/** One response, whichever framework or test client produced it. */
interface Reply {
  status: number
  header(name: string): string | undefined
  cookies: string[]
  text: string
}
interface Ask {
  cookie?: readonly string[]
  form?: Record<string, string>
  json?: unknown
  headers?: Record<string, string>
}
/** Sends one request to an app: fetch-style apps, Hono's app.request, Fastify's inject, supertest. */
type Send = (method: string, path: string, ask?: Ask) => Promise<Reply>

const pairs = (cookies: readonly string[]) => cookies.map((c) => c.replace(/;.*/, ''))
const named = (cookies: readonly string[], name: string) =>
  pairs(cookies).filter((c) => c.startsWith(`${name}=`))

function headersOf(ask: Ask): Record<string, string> {
  const headers: Record<string, string> = { ...ask.headers }
  if (ask.cookie !== undefined && ask.cookie.length > 0) headers.cookie = ask.cookie.join('; ')
  if (ask.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
  if (ask.json !== undefined) headers['content-type'] = 'application/json'
  return headers
}

function bodyOf(ask: Ask): string | null {
  if (ask.form !== undefined) return new URLSearchParams(ask.form).toString()
  if (ask.json !== undefined) return JSON.stringify(ask.json)
  return null
}

async function fromResponse(res: Response): Promise<Reply> {
  return {
    status: res.status,
    header: (name) => res.headers.get(name) ?? undefined,
    cookies: res.headers.getSetCookie(),
    text: await res.text(),
  }
}

/** For `(Request) => Response` apps: the Fetch adapter, Hono's `app.request`. */
const viaFetch =
  (handler: (request: Request) => Response | Promise<Response>): Send =>
  async (method, path, ask = {}) =>
    fromResponse(
      await handler(
        new Request(`http://localhost${path}`, {
          method,
          headers: headersOf(ask),
          body: bodyOf(ask),
        }),
      ),
    )

/** Real HTTP with fetch, never following redirects. */
const viaHttp =
  (base: string): Send =>
  async (method, path, ask = {}) =>
    fromResponse(
      await fetch(`${base}${path}`, {
        method,
        headers: headersOf(ask),
        body: bodyOf(ask),
        redirect: 'manual',
      }),
    )

/** Fastify's `inject`. */
const viaInject =
  (app: Awaited<ReturnType<typeof fastifyApp.createApp>>): Send =>
  async (method, path, ask = {}) => {
    const body = bodyOf(ask)
    const res = await app.inject({
      method: method as 'GET' | 'POST',
      url: path,
      headers: headersOf(ask),
      ...(body === null ? {} : { payload: body }),
    })
    const raw = res.headers['set-cookie']
    return {
      status: res.statusCode,
      header: (name) => (res.headers[name] === undefined ? undefined : String(res.headers[name])),
      cookies: raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)],
      text: res.body,
    }
  }

/** supertest, for Node request listeners (Koa's `app.callback()`, Express). */
const viaSupertest =
  (listener: Parameters<typeof request>[0]): Send =>
  async (method, path, ask = {}) => {
    const agent = request(listener)
    const body = bodyOf(ask)
    let test = method === 'POST' ? agent.post(path) : agent.get(path)
    for (const [name, value] of Object.entries(headersOf(ask))) test = test.set(name, value)
    const res = await (body === null ? test : test.send(body))
    return {
      status: res.status,
      header: (name) => res.get(name),
      cookies: res.get('Set-Cookie') ?? [],
      text: res.text,
    }
  }

/**
 * What every framework page promises for its complete example: guards with redirects and JSON
 * 401s, flashes, login with remember-me and a safe `next`, typed users behind the guards, a
 * remember-me restore that is not fresh, and logout. A copy of the cookies stops working at
 * logout, with a store or with cookie sessions (README, "Security notes").
 */
async function theDocumentedFlow(send: Send, { fresh }: { store: boolean; fresh: boolean }) {
  const anonymous = await send('GET', '/protected')
  assert.equal(anonymous.status, 302)
  assert.equal(anonymous.header('location'), '/login?next=%2Fprotected')
  const form = await send('GET', '/login?next=%2Fprotected', { cookie: pairs(anonymous.cookies) })
  assert.match(form.text, /Please log in to access this page\./)
  assert.match(form.text, /action="\/login\?next=%2Fprotected"/)
  const api = await send('GET', '/api/me', { headers: { accept: 'application/json' } })
  assert.equal(api.status, 401)
  assert.deepEqual(JSON.parse(api.text), { error: 'Unauthorized' })

  const bad = await send('POST', '/login', { form: { email: 'leafstorm', password: 'nope' } })
  assert.equal(bad.status, 401)
  const login = await send('POST', '/login?next=%2Fprotected', {
    form: { email: 'leafstorm', password: 'secret', remember: 'on' },
  })
  assert.equal(login.status, 303)
  assert.equal(login.header('location'), '/protected')
  const cookie = pairs(login.cookies)
  assert.equal(cookie.length, 2, 'a session and a remember-me cookie')
  const unsafe = await send('POST', '/login?next=%2F%2Fevil.com', {
    form: { email: 'leafstorm', password: 'secret' },
  })
  assert.equal(unsafe.header('location'), '/protected')

  const page = await send('GET', '/protected', { cookie })
  assert.equal(page.status, 200)
  assert.match(page.text, /Logged in as: leafstorm/)
  assert.deepEqual(JSON.parse((await send('GET', '/api/me', { cookie })).text), { id: 'leafstorm' })

  // The browser restarts: only the remember-me cookie is left. The login is back, not fresh.
  const restored = await send('GET', '/protected', {
    cookie: named(cookie, '__Host-remember'),
  })
  assert.equal(restored.status, 200)
  if (fresh) {
    const stale = await send('POST', '/account/email', { cookie: pairs(restored.cookies) })
    assert.equal(stale.status, 302)
    assert.equal(stale.header('location'), '/login?next=%2Faccount%2Femail')
    // Logging in again follows next with a GET: the form page, not the POST-only action.
    const relogin = await send('POST', '/login?next=%2Faccount%2Femail', {
      form: { email: 'leafstorm', password: 'secret' },
    })
    assert.equal(relogin.header('location'), '/account/email')
    const form = await send('GET', '/account/email', { cookie: pairs(relogin.cookies) })
    assert.equal(form.status, 200)
    assert.match(form.text, /<form method="POST" action="\/account\/email">/)
    const changed = await send('POST', '/account/email', { cookie })
    assert.equal(changed.status, 200)
    assert.match(changed.text, /E-mail of leafstorm changed/)
  }

  const logout = await send('POST', '/logout', { cookie })
  assert.equal(logout.status, 200)
  assert.ok(logout.cookies.some((c) => c.startsWith('__Host-session=;')))
  assert.ok(logout.cookies.some((c) => c.startsWith('__Host-remember=;')))
  const replay = await send('GET', '/protected', { cookie })
  // Issue 10: a logout ends every copy of the session, cookie sessions included.
  assert.equal(replay.status, 302, 'a copy of the cookies from before the logout is refused')
}

/** Every store mode a framework example is run with. */
const modes = [
  { name: 'cookie sessions', store: () => undefined },
  { name: 'MemoryStore', store: () => new MemoryStore() },
]

describe('snippets: the framework pages', () => {
  for (const mode of modes) {
    const store = mode.store() !== undefined
    it(`hono-app (${mode.name})`, async () => {
      const app = honoApp.createApp(undefined, mode.store())
      await theDocumentedFlow(
        viaFetch((r) => app.request(r)),
        { store, fresh: true },
      )
    })

    it(`fastify-app (${mode.name})`, async () => {
      const app = await fastifyApp.createApp(undefined, mode.store())
      try {
        await theDocumentedFlow(viaInject(app), { store, fresh: true })
      } finally {
        await app.close()
      }
    })

    it(`koa-app (${mode.name})`, async () => {
      const app = koaApp.createApp(undefined, mode.store())
      await theDocumentedFlow(viaSupertest(app.callback()), { store, fresh: false })
    })

    it(`fetch-app (${mode.name})`, async () => {
      const handler = fetchApp.createHandler(undefined, mode.store())
      await theDocumentedFlow(viaFetch(handler), { store, fresh: true })
    })
  }

  it('hono-app: X-Real-IP counts only from a proxy on this machine', async () => {
    const app = honoApp.createApp()
    const from = (peer: string, realIp: string): Send =>
      viaFetch((r) => {
        r.headers.set('x-real-ip', realIp)
        return app.request(r, undefined, { incoming: { socket: { remoteAddress: peer } } })
      })
    const form = { email: 'leafstorm', password: 'secret' }
    // Through the local proxy: the address in X-Real-IP is the client's.
    const login = await from('127.0.0.1', '198.51.100.1')('POST', '/login', { form })
    const cookie = pairs(login.cookies)
    const same = await from('127.0.0.1', '198.51.100.1')('POST', '/account/email', { cookie })
    assert.equal(same.status, 200)
    const moved = await from('127.0.0.1', '198.51.100.2')('POST', '/account/email', { cookie })
    assert.equal(moved.status, 302, 'another client address: not fresh any more')
    // Straight from the network: X-Real-IP is ignored, the peer address counts.
    const direct = await from('203.0.113.7', '198.51.100.1')('POST', '/login', { form })
    const spoofed = await from('203.0.113.7', '198.51.100.9')('POST', '/account/email', {
      cookie: pairs(direct.cookies),
    })
    assert.equal(spoofed.status, 200)
  })

  it('fastify-app: trustProxy loopback reads X-Forwarded-For from a local proxy', async () => {
    const app = await fastifyApp.createApp()
    try {
      const send = viaInject(app)
      const form = { email: 'leafstorm', password: 'secret' }
      const login = await send('POST', '/login', {
        form,
        headers: { 'x-forwarded-for': '198.51.100.1' },
      })
      const cookie = pairs(login.cookies)
      const moved = await send('POST', '/account/email', {
        cookie,
        headers: { 'x-forwarded-for': '198.51.100.2' },
      })
      assert.equal(moved.status, 302)
    } finally {
      await app.close()
    }
  })

  it('fetch-bun: Bun.serve with the peer address from server.requestIP', async () => {
    let options: Parameters<fetchBun.BunLike['serve']>[0] | undefined
    const asked: string[] = []
    const server = {
      url: new URL('http://127.0.0.1:5099/'),
      requestIP: (r: Request) => {
        asked.push(r.url)
        return { address: '192.0.2.1' }
      },
    }
    const bun: fetchBun.BunLike = {
      serve(given) {
        options = given
        return server
      },
    }
    const port = process.env.PORT
    process.env.PORT = '5099'
    try {
      fetchBun.start(bun, fetchApp.createHandler())
    } finally {
      if (port === undefined) delete process.env.PORT
      else process.env.PORT = port
    }
    assert.equal(options?.port, 5099, 'the port comes from PORT')
    const serve = options
    assert.ok(serve)
    await theDocumentedFlow(
      viaFetch((r) => serve.fetch(r, server)),
      { store: false, fresh: true },
    )
    assert.ok(asked.length > 0)
  })

  it('fetch-deno: Deno.serve with the peer address from info.remoteAddr', async () => {
    let handler: Parameters<fetchDeno.DenoLike['serve']>[1] | undefined
    const deno: fetchDeno.DenoLike = {
      serve(_options, given) {
        handler = given
        return { finished: Promise.resolve() }
      },
    }
    fetchDeno.start(deno, fetchApp.createHandler(undefined, new MemoryStore()))
    const serve = handler
    assert.ok(serve)
    await theDocumentedFlow(
      viaFetch((r) => serve(r, { remoteAddr: { hostname: '192.0.2.1', port: 40000 } })),
      { store: true, fresh: true },
    )
  })

  it('fetch-node: a real Node server', async () => {
    const server = fetchNode.start(fetchApp.createHandler(), 0)
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as { port: number }
      await theDocumentedFlow(viaHttp(`http://127.0.0.1:${port}`), { store: false, fresh: true })
    } finally {
      server.close()
    }
  })

  it('fetch-nextjs: GET and PATCH route handlers behind the guards', async () => {
    const send = viaFetch((r) => (r.method === 'PATCH' ? fetchNextjs.PATCH(r) : fetchNextjs.GET(r)))
    const anonymous = await send('GET', '/account')
    assert.equal(anonymous.status, 302)
    assert.equal(anonymous.header('location'), '/login?next=%2Faccount')
    // A manager with the same secret makes cookies the route accepts.
    const manager = new LoginManager<{ id: string }>({
      secret: process.env.SESSION_SECRET as string,
      userLoader: () => null,
    })
    const fresh = [await testLogin(manager, { id: 'leafstorm' })]
    const account = await send('GET', '/account', { cookie: fresh })
    assert.deepEqual(JSON.parse(account.text), {
      id: 'leafstorm',
      email: 'leafstorm@example.com',
    })
    const stale = [await testLogin(manager, { id: 'leafstorm' }, { fresh: false })]
    const refused = await send('PATCH', '/account', { cookie: stale, json: { email: 'x@y.z' } })
    assert.equal(refused.status, 302)
    const changed = await send('PATCH', '/account', { cookie: fresh, json: { email: 'l@e.org' } })
    assert.deepEqual(JSON.parse(changed.text), { id: 'leafstorm', email: 'l@e.org' })
    assert.equal(fetchNextjs.runtime, 'nodejs')
  })
})

describe('snippets: server-side sessions', () => {
  const users = () => new Map([['ann', new sessionStore.User('ann')]])

  it('session-store: configuration only; revocation and cookie size differ', async () => {
    assert.equal(await sessionStore.storeFromEnv({ SESSION_STORE: 'cookie' }), undefined)
    assert.ok((await sessionStore.storeFromEnv({ SESSION_STORE: 'memory' })) instanceof MemoryStore)
    await assert.rejects(sessionStore.storeFromEnv({ SESSION_STORE: 'nosuch' }), /SESSION_STORE/)
    for (const store of [undefined, new MemoryStore()]) {
      const app = sessionStore.createApp(users(), store)
      const login = await request(app).post('/login/ann?remember=1').expect(204)
      const cookie = pairsOf(login)
      const session = named(cookie, '__Host-session')[0] as string
      // A signed id with a store; the sealed session (with its data) without.
      if (store === undefined) assert.ok(session.length > 150, session)
      else assert.ok(session.length < 150, session)
      const me = await request(app).get('/me').set('Cookie', cookie).expect(200)
      assert.deepEqual(me.body, { id: 'ann', theme: 'dark' })
      await request(app).post('/logout').set('Cookie', cookie).expect(204)
      // A copy of the cookies from before the logout is refused, with either kind of session.
      await request(app).get('/me').set('Cookie', cookie).expect(401)
    }
  })

  it('scaling-out: instances share logins and logouts; rotated secrets keep them', async () => {
    assert.deepEqual(scalingOut.secretsFromEnv({ SESSION_SECRETS: 'new,old' }), ['new', 'old'])
    assert.throws(() => scalingOut.secretsFromEnv({}), /SESSION_SECRETS/)
    const store = new MemoryStore()
    const old = process.env.SESSION_SECRET as string
    const added = randomBytes(32).toString('base64url')
    const members = new Map([['ann', new scalingOut.User('ann')]])
    const instance = (name: string, secrets: string[]) =>
      scalingOut.createInstance(name, secrets, store, members).app
    const a = instance('a', [old])
    const b = instance('b', [old])
    // docs/testing.md: with a store, testLogin writes the session into the manager's store.
    const { manager } = scalingOut.createInstance('t', [old], store, members)
    const tested = await testLogin(manager, members.get('ann') as scalingOut.User)
    assert.equal((await request(b).get('/whoami').set('Cookie', tested)).body.user, 'ann')
    const login = await request(a).post('/login/ann').expect(204)
    const cookie = pairsOf(login)
    const onB = await request(b).get('/whoami').set('Cookie', cookie)
    assert.deepEqual(onB.body, { instance: 'b', user: 'ann' })
    // docs/scaling-out.md, rotation: first add the new secret second, then move it first.
    const step1 = instance('c', [old, added])
    assert.equal((await request(step1).get('/whoami').set('Cookie', cookie)).body.user, 'ann')
    const step2 = instance('d', [added, old])
    const rotated = await request(step2).get('/whoami').set('Cookie', cookie)
    assert.equal(rotated.body.user, 'ann')
    const moved = pairsOf(rotated)
    assert.equal(moved.length, 1, 'the session moved to the new secret')
    const other = pairsOf(await request(step2).post('/login/ann').expect(204))
    const ended = await request(step1).post('/logout-everywhere').set('Cookie', other).expect(200)
    assert.ok(ended.body.ended >= 2, JSON.stringify(ended.body))
    for (const app of [step1, step2]) {
      for (const sent of [cookie, moved, other]) {
        const whoami = await request(app).get('/whoami').set('Cookie', sent)
        assert.equal(whoami.body.user, null)
      }
    }
  })

  it('revocation: devices, revoke one, password change, logout everywhere (store)', async () => {
    const ada = () => new Map([['ada', new revocation.User('ada', 'pw')]])
    const app = revocation.createApp(ada(), { store: new MemoryStore() })
    const form = { name: 'ada', password: 'pw' }
    const laptop = pairsOf(await request(app).post('/login').type('form').send(form).expect(204))
    const before = await request(app).get('/sessions').set('Cookie', laptop).expect(200)
    assert.equal(before.body.length, 1)
    const phone = pairsOf(
      await request(app)
        .post('/login')
        .type('form')
        .send({ ...form, remember: 'on' })
        .expect(204),
    )
    const listed = (await request(app).get('/sessions').set('Cookie', laptop)).body as Array<{
      handle: string
    }>
    assert.equal(listed.length, 2)
    const phoneHandle = listed.find((s) => s.handle !== before.body[0].handle)?.handle as string
    await request(app)
      .post(`/sessions/${encodeURIComponent(phoneHandle)}/revoke`)
      .set('Cookie', laptop)
      .expect(204)
    await request(app).get('/whoami').set('Cookie', named(phone, '__Host-session')).expect(401)
    // docs/revocation.md: revoking a session ends the device's remember-me token too.
    await request(app).get('/whoami').set('Cookie', phone).expect(401)
    await request(app).get('/whoami').set('Cookie', named(phone, '__Host-remember')).expect(401)
    await request(app).get('/whoami').set('Cookie', laptop).expect(200)
    // The phone logs in again; the password change ends its session and token, and the laptop
    // stays logged in.
    const phoneAgain = pairsOf(
      await request(app)
        .post('/login')
        .type('form')
        .send({ ...form, remember: 'on' })
        .expect(204),
    )
    await request(app).get('/whoami').set('Cookie', phoneAgain).expect(200)
    await request(app)
      .post('/password')
      .type('form')
      .send({ password: 'new' })
      .set('Cookie', laptop)
      .expect(204)
    await request(app).get('/whoami').set('Cookie', phoneAgain).expect(401)
    await request(app)
      .get('/whoami')
      .set('Cookie', named(phoneAgain, '__Host-remember'))
      .expect(401)
    await request(app).get('/whoami').set('Cookie', laptop).expect(200)
    await request(app).post('/logout-everywhere').set('Cookie', laptop).expect(204)
    await request(app).get('/whoami').set('Cookie', laptop).expect(401)
  })

  it('revocation: the password change with cookie sessions (sessionVersion)', async () => {
    const app = revocation.createApp(new Map([['ada', new revocation.User('ada', 'pw')]]))
    const form = { name: 'ada', password: 'pw' }
    const phone = pairsOf(
      await request(app)
        .post('/login')
        .type('form')
        .send({ ...form, remember: 'on' })
        .expect(204),
    )
    const laptop = pairsOf(await request(app).post('/login').type('form').send(form).expect(204))
    const changed = await request(app)
      .post('/password')
      .type('form')
      .send({ password: 'new' })
      .set('Cookie', laptop)
      .expect(204)
    await request(app).get('/whoami').set('Cookie', pairsOf(changed)).expect(200)
    await request(app).get('/whoami').set('Cookie', laptop).expect(401)
    await request(app).get('/whoami').set('Cookie', phone).expect(401)
    await request(app).get('/sessions').set('Cookie', pairsOf(changed)).expect(500) // ERR_NO_STORE
  })

  it('revocation: a copied remember-me cookie ends the series and every session', async () => {
    let clock = Date.now()
    const app = revocation.createApp(new Map([['ada', new revocation.User('ada', 'pw')]]), {
      store: new MemoryStore(),
      now: () => clock,
    })
    const login = await request(app)
      .post('/login')
      .type('form')
      .send({ name: 'ada', password: 'pw', remember: 'on' })
    const stolen = named(pairsOf(login), '__Host-remember')
    // The owner's browser restarts and uses the token: it is rotated.
    const owner = await request(app).get('/whoami').set('Cookie', stolen).expect(200)
    const ownerCookies = pairsOf(owner)
    assert.notDeepEqual(named(ownerCookies, '__Host-remember'), stolen)
    clock += 31_000 // past the 30 s grace for parallel requests
    // The thief replays the old value: refused, and the whole series is revoked.
    await request(app).get('/whoami').set('Cookie', stolen).expect(401)
    await new Promise((resolve) => setImmediate(resolve)) // the listener's logoutEverywhere
    await request(app).get('/whoami').set('Cookie', ownerCookies).expect(401)
  })
})

// testing-store: the conformance kit, run on the documented custom store.
testingStore.checkTimedStore()
