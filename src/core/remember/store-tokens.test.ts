import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { SessionStore, StoreWrite } from '../../session/store.ts'
import { REMEMBER_LINK } from '../../session/store-backend.ts'
import { MemoryStore } from '../../stores/memory.ts'
import { LoginManager } from '../login-manager.ts'
import type { StoreRememberTokens, TokenCheck, TokenMatch } from './store-tokens.ts'

const DAY = 86_400

function setup(inner: SessionStore = new MemoryStore()) {
  const manager = new LoginManager<{ id: string }>({
    secret: 'remember-store-unit-secret-Xv3Lq8Nz5Tw1Kc7Hp2',
    userLoader: (id) => ({ id }),
    session: { store: inner },
  })
  const tokens = manager._rememberTokens as StoreRememberTokens
  const keys = manager._storeKeys
  assert.ok(tokens !== undefined && keys !== undefined)
  const issue = async (userId = 'u1', now = 1_000) => {
    const issued = tokens.issue(userId, 30 * DAY, undefined, now)
    await issued.pending
    return issued.value
  }
  return { manager, tokens, keys, store: inner, issue }
}

function matched(check: TokenCheck): TokenMatch {
  assert.ok(check.ok, `refused: ${JSON.stringify(check)}`)
  return check
}

async function rotated(tokens: StoreRememberTokens, check: TokenCheck, now: number) {
  const rotation = await tokens.rotate(matched(check), now)
  assert.ok(rotation.ok)
  return rotation
}

describe('StoreRememberTokens', () => {
  it('check writes nothing; rotate is a compare-and-set and hands back a confirmation', async () => {
    const { tokens, store, issue } = setup()
    const value = await issue()
    const key = tokens.keyOf(value) as string
    const before = await store.get(key)
    const check = matched(await tokens.check(value, 1_001))
    assert.equal(check.userId, 'u1')
    assert.equal(check.duration, 30 * DAY)
    assert.deepEqual(await store.get(key), before, 'check changed the record')
    const rotation = await rotated(tokens, check, 1_001)
    assert.ok(rotation.next !== undefined && rotation.next !== value)
    assert.equal((await store.get(key))?.hu, '1', 'unconfirmed until the response carries it')
    await rotation.confirm?.()
    assert.equal((await store.get(key))?.hu, undefined)
  })

  it('the replaced validator: accepted within the grace window without a rotation, then theft once confirmed', async () => {
    const { tokens, issue } = setup()
    const old = await issue()
    const rotation = await rotated(tokens, await tokens.check(old, 1_001), 1_001)
    await rotation.confirm?.()
    const parallel = await rotated(tokens, await tokens.check(old, 1_031), 1_031)
    assert.equal(parallel.next, undefined, 'a parallel request keeps its cookie')
    const late = await tokens.check(old, 1_032)
    assert.deepEqual(
      { ...late },
      { ok: false, reason: 'reused', userId: 'u1', key: tokens.keyOf(old) },
    )
    assert.ok((await tokens.check(rotation.next as string, 1_032)).ok)
  })

  it('an unconfirmed rotation keeps the replaced validator valid, and a restore with it rotates again', async () => {
    const { tokens, issue } = setup()
    const old = await issue()
    const lost = await rotated(tokens, await tokens.check(old, 1_001), 1_001)
    // The response with `lost.next` never reached the browser: nothing confirmed it.
    const again = await rotated(tokens, await tokens.check(old, 1_500), 1_500)
    assert.ok(again.next !== undefined && again.next !== lost.next)
    await again.confirm?.()
    assert.equal((await tokens.check(lost.next as string, 1_501)).ok, false, 'dropped, never sent')
    assert.equal((await tokens.check(old, 1_600)).ok, false, 'confirmed: the old one is spent')
    assert.ok((await tokens.check(again.next as string, 1_600)).ok)
  })

  it('two rotations racing from one read: one rotates, the other is accepted as is', async () => {
    const { tokens, issue } = setup()
    const value = await issue()
    const [a, b] = [await tokens.check(value, 1_001), await tokens.check(value, 1_001)]
    const results = await Promise.all([
      tokens.rotate(matched(a), 1_001),
      tokens.rotate(matched(b), 1_001),
    ])
    const next = results.map((r) => (r.ok ? r.next : 'refused'))
    assert.equal(next.filter((n) => n === undefined).length, 1, JSON.stringify(next))
    const winner = next.find((n) => n !== undefined) as string
    assert.ok((await tokens.check(winner, 2_000)).ok)
  })

  it('a rotation loses to a revocation between its check and its write', async () => {
    const { tokens, issue } = setup()
    const value = await issue()
    const check = await tokens.check(value, 1_001)
    await tokens.revoke(value)
    assert.deepEqual(
      { ...(await tokens.rotate(matched(check), 1_001)) },
      { ok: false, reason: 'unknown-session' },
    )
  })

  it('a store that refuses every compare-and-set: accepted without rotating after a few attempts', async () => {
    const inner = new MemoryStore()
    const stubborn: SessionStore = Object.assign(Object.create(inner) as SessionStore, {
      get: (key: string) => inner.get(key),
      write: (key: string, write: StoreWrite) =>
        write.expect === undefined ? inner.write(key, write) : Promise.resolve(false),
    })
    const { tokens, issue } = setup(stubborn)
    const value = await issue()
    const rotation = await rotated(tokens, await tokens.check(value, 1_001), 1_001)
    assert.equal(rotation.next, undefined)
  })

  it('refuses what it cannot trust: a bad signature, an unknown or expired token (deleted)', async () => {
    const { tokens, store, issue } = setup()
    const value = await issue()
    assert.deepEqual(
      { ...(await tokens.check(`${value}x`, 1_001)) },
      { ok: false, reason: 'signature' },
    )
    assert.deepEqual(
      { ...(await tokens.check(value, 1_000 + 30 * DAY)) },
      { ok: false, reason: 'expired', userId: 'u1' },
    )
    assert.equal(await store.get(tokens.keyOf(value) as string), null)
    assert.deepEqual(
      { ...(await tokens.check(value, 1_001)) },
      { ok: false, reason: 'unknown-session' },
    )
  })

  it('every field is validated: a bad record is no token (deleted, never a theft)', async () => {
    const { tokens, store, issue } = setup()
    const bad: Record<string, string>[] = [
      { d: 'abc' },
      { d: '-1' },
      { d: '0.5' },
      { d: String(401 * DAY) },
      { e: '-1' },
      { e: '1.5' },
      { h: '' },
      { u: '{}' },
      { u: 'Infinity' },
      { v: '{"a":1}' },
      { ph: 'short', pt: '1000' },
      { ph: 'A'.repeat(43), pt: 'x' },
      { hu: '0' },
      // What a lenient decoder leaves of invalid UTF-8, a lone surrogate, an oversized id.
      { u: '"u\ufffd1"' },
      { u: '"u\ud8001"' },
      { v: '"\udc00"' },
      { u: JSON.stringify('x'.repeat(7000)) },
    ]
    for (const set of bad) {
      const value = await issue()
      const key = tokens.keyOf(value) as string
      await store.write(key, { mode: 'update', set, ttl: 60 })
      const check = await tokens.check(value, 1_001)
      assert.deepEqual({ ...check }, { ok: false, reason: 'malformed' }, JSON.stringify(set))
      assert.equal(await store.get(key), null, JSON.stringify(set))
    }
  })

  it('writes ids and versions as ASCII JSON, and reads them back', async () => {
    const { tokens, store } = setup()
    for (const id of ['佐藤', '💥', 'e\u0301', 'a"b\\c']) {
      const issued = tokens.issue(id, 30 * DAY, 'v-é', 1_000)
      await issued.pending
      const record = await store.get(tokens.keyOf(issued.value) as string)
      assert.match(`${record?.u}${record?.v}`, /^[\x20-\x7e]+$/, id)
      const check = matched(await tokens.check(issued.value, 1_001))
      assert.equal(check.userId, id)
    }
  })

  it('endSeries revokes every token of the user and ends the sessions linked to the series', async () => {
    const { tokens, keys, store, issue } = setup()
    const stolen = await issue('u1')
    const other = await issue('u1')
    const foreign = await issue('u2')
    const tag = keys.userTag('u1')
    const session = (id: string, link?: string) =>
      store.write(keys.session(tag, id), {
        mode: 'create',
        set: link === undefined ? { a: '1' } : { a: '1', [REMEMBER_LINK]: link },
        ttl: 60,
        index: keys.index(tag),
      })
    const stolenKey = tokens.keyOf(stolen) as string
    await session('linked-1'.padEnd(43, 'x'), stolenKey)
    await session('linked-2'.padEnd(43, 'x'), stolenKey)
    await session('other'.padEnd(43, 'x'), tokens.keyOf(other))
    await session('plain'.padEnd(43, 'x'))
    const ended = { sessions: 0, tokens: 0 }
    await tokens.endSeries('u1', stolenKey, ended)
    assert.deepEqual(ended, { sessions: 2, tokens: 2 })
    const left = (await store.members(keys.index(tag))).sort()
    assert.deepEqual(
      left,
      [
        keys.session(tag, 'other'.padEnd(43, 'x')),
        keys.session(tag, 'plain'.padEnd(43, 'x')),
      ].sort(),
    )
    assert.ok((await tokens.check(foreign, 1_001)).ok, "another user's token is untouched")
  })

  it('refresh re-seals the verified parts; belongsTo verifies and checks the user', async () => {
    const { tokens, issue } = setup()
    const value = await issue('u1')
    const refreshed = tokens.refresh(value, DAY, 1_001)
    assert.equal(refreshed?.value, value)
    await refreshed?.pending
    const tag = value.slice(0, value.indexOf('~'))
    // A changed last character of the signature, whatever it was.
    const tampered = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`
    for (const bad of [`${tag}~a,b`, `${tag}~not-signed`, tampered]) {
      assert.equal(tokens.refresh(bad, DAY, 1_001), undefined, bad)
      assert.equal(tokens.belongsTo(bad, 'u1'), false, bad)
    }
    assert.equal(tokens.belongsTo(value, 'u1'), true)
    assert.equal(tokens.belongsTo(value, 'u2'), false)
  })
})
