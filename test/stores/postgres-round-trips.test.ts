/**
 * What a request costs PostgreSQL, counted (not timed): a wrapped pool counts every statement
 * `PostgresStore` sends, and the store sends one statement per operation, so statements are
 * round trips. A protected request whose session did not change costs one primary-key `SELECT`
 * and no write until the touch interval has passed; then one `UPDATE` once. A login costs a
 * bounded number of writes. On the real PostgreSQL (`DATABASE_URL`); skipped without it, except
 * on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { LoginManager, type UserId } from 'login-manager'
import { PostgresStore } from 'login-manager/postgres'
import { adapters } from '../conformance/adapters/index.ts'
import type { RunningApp } from '../conformance/harness.ts'
import { TestClient } from '../support/client.ts'
import { notch, USERS, type User } from '../support/users.ts'
import {
  CountingPool,
  dropSchema,
  probePostgres,
  schemaName,
  testPool,
} from './postgres-support.ts'
import { mutableClock, ON_CI } from './support.ts'

const SCHEMA = schemaName('trips')
const TOUCH = 60
const unreachable = await probePostgres()
const express = adapters.find((a) => a.name === 'express') ?? adapters[0]!

if (unreachable !== null && !ON_CI) console.log(`# skipping the round-trip counts: ${unreachable}`)

describe('PostgresStore round trips per request', {
  skip: unreachable !== null && !ON_CI ? unreachable : false,
}, () => {
  if (unreachable !== null) {
    it('needs a reachable PostgreSQL on CI', () => {
      assert.fail(`${unreachable}. Start PostgreSQL or set DATABASE_URL; on CI this must run.`)
    })
    return
  }
  const pool = testPool()
  const counting = new CountingPool(pool)
  const store = new PostgresStore({ pool: counting, schema: SCHEMA, cleanupInterval: 0 })
  const clock = mutableClock()
  let app: RunningApp

  before(async () => {
    await store.createSchema()
    const manager = new LoginManager<User, UserId>({
      secret: 'postgres-round-trips-secret-Kp3Xw8Zq1Rt6Vn9Lb2',
      userLoader: (id) => USERS.get(Number(id)) ?? null,
      now: clock.now,
      session: { store, touchInterval: TOUCH },
    })
    app = await express.start({
      manager,
      routes: [
        {
          path: '/login',
          handler: async ({ auth, query }) =>
            String(await auth.loginUser(notch, { remember: query('remember') === '1' })),
        },
        { path: '/protected', guard: 'login', handler: () => 'protected' },
      ],
    })
  })
  after(async () => {
    await app?.close()
    await store.close()
    try {
      await dropSchema(pool, SCHEMA)
    } finally {
      await pool.end()
    }
  })

  const writes = () => counting.texts.filter((text) => !text.startsWith('SELECT'))

  it('a protected request costs one primary-key SELECT, and no write within the touch interval', async () => {
    const browser = new TestClient(app.baseUrl)
    assert.equal((await browser.get('/login')).body, 'true')
    counting.reset()
    for (let i = 0; i < 20; i++) {
      clock.advance(2)
      const res = await browser.get('/protected')
      assert.equal(res.body, 'protected')
    }
    assert.equal(counting.statements, 20, `statements: ${JSON.stringify(counting.texts)}`)
    assert.deepEqual(writes(), [], 'nothing written')
    assert.ok(counting.texts.every((text) => /^SELECT fields FROM .* WHERE key = \$1/.test(text)))
  })

  it('past the touch interval: one write, once; then one SELECT a request again', async () => {
    const browser = new TestClient(app.baseUrl)
    assert.equal((await browser.get('/login')).body, 'true')
    counting.reset()
    clock.advance(TOUCH + 1)
    assert.equal((await browser.get('/protected')).body, 'protected')
    assert.equal(counting.statements, 2, JSON.stringify(counting.texts))
    assert.equal(writes().length, 1, 'the touch')
    counting.reset()
    for (let i = 0; i < 5; i++) assert.equal((await browser.get('/protected')).body, 'protected')
    assert.equal(counting.statements, 5)
    assert.deepEqual(writes(), [])
  })

  it('a login is one write, with remember-me two, each one statement', async () => {
    counting.reset()
    assert.equal((await new TestClient(app.baseUrl).get('/login')).body, 'true')
    assert.equal(counting.statements, 1, JSON.stringify(counting.texts))
    counting.reset()
    assert.equal((await new TestClient(app.baseUrl).get('/login?remember=1')).body, 'true')
    assert.equal(counting.statements, 2, JSON.stringify(counting.texts))
  })
})
