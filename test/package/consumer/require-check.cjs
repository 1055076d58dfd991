// Plain JavaScript in a CommonJS project: require() every entry point of the installed package,
// check that require() and import() give one and the same module (so `instanceof
// LoginManagerError` holds whichever way the error's code was loaded), and serve a guarded
// Express route. Run by the packaging test as `node check.js`; prints "ok" at the end.
const assert = require('node:assert/strict')
const { randomBytes } = require('node:crypto')
const express = require('express')
const { LoginManager, LoginManagerError, UserMixin } = require('login-manager')
const { expressLogin } = require('login-manager/express')

const entryPoints = ['express', 'hono', 'fastify', 'koa', 'fetch', 'redis', 'sqlite', 'testing']
for (const name of entryPoints) {
  const exported = require(`login-manager/${name}`)
  assert.ok(Object.keys(exported).length > 0, `login-manager/${name} exports something`)
}

class User extends UserMixin {
  constructor(id) {
    super()
    this.id = id
  }
}

async function main() {
  const esm = await import('login-manager')
  assert.equal(esm.LoginManagerError, LoginManagerError, 'one LoginManagerError class')
  assert.equal(esm.LoginManager, LoginManager, 'one LoginManager class')
  assert.throws(
    () => new esm.LoginManager({ secret: 'short' }),
    (error) => {
      assert.ok(error instanceof LoginManagerError, 'instanceof the required class')
      assert.equal(error.code, 'ERR_SECRET_WEAK')
      return true
    },
  )

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
    assert.equal(anonymous.headers.get('location'), '/login?next=%2Fprotected')
    const { testLogin } = require('login-manager/testing')
    const cookie = await testLogin(manager, new User('ada'))
    const page = await fetch(`${base}/protected`, { headers: { cookie } })
    assert.equal(await page.text(), 'Logged in as: ada')
  } finally {
    server.close()
  }
  console.log('ok')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
