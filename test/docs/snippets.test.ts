// Keeps the README and docs/ honest: embedded snippets are the files under examples/snippets
// (which tsc type-checks), relative links resolve, the documented defaults, error codes and
// events match the code, and the snippets do what the docs say they do.
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
import * as flaskPort from '../../examples/snippets/flask-port.ts'
import * as freshLogins from '../../examples/snippets/fresh-logins.ts'
import * as guards from '../../examples/snippets/guards.ts'
import * as loginAndLogout from '../../examples/snippets/login-and-logout.ts'
import * as quickstart from '../../examples/snippets/quickstart.ts'
import * as rememberFlask from '../../examples/snippets/remember-flask.ts'
import * as rememberMe from '../../examples/snippets/remember-me.ts'
import * as sessionProtection from '../../examples/snippets/session-protection.ts'
import * as sessions from '../../examples/snippets/sessions.ts'
import * as testingFetch from '../../examples/snippets/testing-fetch.ts'
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
    const source = read('src/core/errors.ts')
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
    const body = /interface LoginManagerEvents[^{]*\{([\s\S]*?)\n\}/.exec(source)?.[1] ?? ''
    const events = [...body.matchAll(/^ {2}(\w+): \{/gm)].map((m) => m[1])
    assert.equal(events.length, 13)
    const documented = tables(read('docs/events.md'))
      .flat()
      .map((row) => firstCode(row.Event))
    for (const event of events) assert.ok(documented.includes(event), `${event} is undocumented`)
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
    const ada = new User('ada', 'pw')
    const manager = createManager(new Map([['ada', ada]]))
    const app = createApp(manager)
    const cookie = await testLogin(manager, ada, { fresh: false })
    const res = await request(app)
      .post('/reauthenticate?next=%2Faccount%2Femail')
      .set('Cookie', cookie)
      .type('form')
      .send({ password: 'pw' })
      .expect(303)
      .expect('Location', '/account/email')
    await request(app).post('/account/email').set('Cookie', pairsOf(res)).expect(200)
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

    const manager = configuration.createManager(new Map())
    assert.equal(manager.options.session.idleTimeout, DEFAULTS.session.idleTimeout)

    assert.equal(flaskPort.createManager(new Map()).options.sessionProtection, 'strong')
  })
})
