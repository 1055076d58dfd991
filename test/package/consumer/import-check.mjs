// Plain JavaScript in an ESM project: import every entry point of the installed package, check
// that import and require() give the same module, and serve a guarded Express route. Run by the
// packaging test as `node check.js`; prints "ok" at the end.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import express from 'express'
import { LoginManager, LoginManagerError, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { testLogin } from 'login-manager/testing'

const require = createRequire(import.meta.url)
for (const name of ['express', 'hono', 'fastify', 'koa', 'fetch', 'redis', 'sqlite', 'testing']) {
  const exported = await import(`login-manager/${name}`)
  assert.ok(Object.keys(exported).length > 0, `login-manager/${name} exports something`)
}
assert.equal(require('login-manager').LoginManagerError, LoginManagerError, 'one class')

// login-manager/sqlite loads better-sqlite3 (the app's own) to open a path.
const { SqliteStore } = await import('login-manager/sqlite')
const sqlite = new SqliteStore({ path: ':memory:' })
await sqlite.createSchema()
await sqlite.checkSchema()
assert.equal(await sqlite.write('lm:{t}:s:k', { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
assert.equal((await sqlite.get('lm:{t}:s:k'))?.u, '1')
await sqlite.close()

class User extends UserMixin {
  constructor(id) {
    super()
    this.id = id
  }
}

const manager = new LoginManager({
  secret: randomBytes(32).toString('base64url'),
  userLoader: (id) => (id === 'ada' ? new User(id) : null),
  loginView: '/login',
})
const login = expressLogin(manager)
const app = express()
app.use(login.middleware)
app.get(
  '/protected',
  login.loginRequired((req, res) => res.send(`Logged in as: ${req.auth.user.id}`)),
)
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
try {
  const base = `http://127.0.0.1:${server.address().port}`
  const anonymous = await fetch(`${base}/protected`, { redirect: 'manual' })
  assert.equal(anonymous.status, 302)
  const cookie = await testLogin(manager, new User('ada'))
  const page = await fetch(`${base}/protected`, { headers: { cookie } })
  assert.equal(await page.text(), 'Logged in as: ada')
} finally {
  server.close()
}
console.log('ok')
