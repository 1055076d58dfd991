/**
 * A store remember-me token refreshed past its user's index (`remember.refreshEachRequest`) is
 * still found by "log out everywhere", on the real Redis (`REDIS_URL`): the refresh extends the
 * index with the token, where a plain touch of the token would leave the index to expire first.
 * Without Redis the test is skipped with a printed reason, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { LoginManager } from 'login-manager'
import { RedisStore } from 'login-manager/redis'
import type { StoreRememberTokens } from '../../src/core/remember/store-tokens.ts'
import { deleteByPrefix, ON_CI, probeRedis, rawClient } from './support.ts'

const unreachable = await probeRedis()
if (unreachable !== null && !ON_CI) console.log(`# skipping: ${unreachable}`)

describe('a refreshed store remember-me token stays in its user’s index (Redis)', {
  skip: unreachable !== null && !ON_CI ? unreachable : false,
}, () => {
  if (unreachable !== null) {
    it('needs a reachable Redis on CI', () => {
      assert.fail(`${unreachable}. Start Redis or set REDIS_URL; on CI this test must run.`)
    })
    return
  }
  const client = rawClient()
  const prefix = `lmrefresh-${randomUUID().slice(0, 8)}:`
  after(async () => {
    try {
      await deleteByPrefix(client, prefix)
    } finally {
      client.disconnect()
    }
  })

  it('the index outlives the refreshed token, and logoutEverywhere ends it', async () => {
    const manager = new LoginManager<{ id: string }>({
      secret: 'remember-refresh-index-secret-Qm4Zt8Xw2Lp6Vn1Rk',
      userLoader: (id) => ({ id }),
      session: { store: new RedisStore({ client, prefix }) },
    })
    const tokens = manager._rememberTokens as StoreRememberTokens
    const keys = manager._storeKeys
    assert.ok(tokens !== undefined && keys !== undefined)
    const now = Math.floor(Date.now() / 1000)
    const issued = tokens.issue('ada', 60, undefined, now)
    await issued.pending
    const refreshed = tokens.refresh(issued.value, 86_400, now)
    await refreshed?.pending
    const tokenKey = `${prefix}${tokens.keyOf(issued.value)}`
    const indexKey = `${prefix}${keys.index(keys.userTag('ada'))}`
    const tokenTtl = await client.pttl(tokenKey)
    const indexTtl = await client.pttl(indexKey)
    assert.ok(tokenTtl > 60_000, `the token was refreshed: PTTL ${tokenTtl}`)
    assert.ok(indexTtl >= tokenTtl - 1000, `index PTTL ${indexTtl} < token PTTL ${tokenTtl}`)
    assert.equal(await manager.logoutEverywhere('ada'), 1)
    assert.equal(await client.exists(tokenKey), 0)
  })
})
