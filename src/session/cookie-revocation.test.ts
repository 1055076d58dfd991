import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManager } from '../core/login-manager.ts'
import { rememberCodecFor } from '../core/remember/choose.ts'
import { KeyRing } from '../crypto/keys.ts'
import { seal, unseal } from '../crypto/seal.ts'
import { LoginManagerError } from '../shared/errors.ts'
import { MemoryStore } from '../stores/memory.ts'
import { MemoryRevocationStore } from '../stores/memory-revocations.ts'
import { CookieSessionBackend } from './cookie-backend.ts'
import { newRevocationId, REVOCATION_ID, RevocationList } from './revocations.ts'
import { Session } from './session.ts'

const SECRET = 'Zq3!vR8#pL2@xW6$mN0^tB5&cF9*hJ1%'
const NAME = '__Host-session'
const T0 = Date.UTC(2030, 0, 1, 12)
const S0 = T0 / 1000
const IDLE = 3600
const ABSOLUTE = 12 * 3600

function setup(now = () => T0) {
  const keys = new KeyRing([SECRET]).forPurpose('session')
  const list = new RevocationList({
    store: undefined,
    maxEntries: 1000,
    resyncInterval: 5,
    now,
    onError: () => {},
  })
  const backend = new CookieSessionBackend(keys, NAME, {
    list,
    idleTimeout: IDLE,
    absoluteTimeout: ABSOLUTE,
    now,
  })
  return { keys, list, backend }
}

function loggedIn(createdAt = S0): Session {
  const session = new Session({ createdAt, lastActive: createdAt, isNew: true })
  session._setAuth({ userId: 'alice', fresh: true })
  return session
}

function plaintext(keys: ReturnType<typeof setup>['keys'], value: string) {
  const opened = unseal(keys, value, NAME)
  assert.ok(opened.ok)
  return JSON.parse(opened.plaintext) as Record<string, unknown>
}

function loadedSid(backend: CookieSessionBackend, value: string): string | undefined {
  const loaded = backend.load(value)
  assert.ok(loaded.ok, `expected the value to load, got ${JSON.stringify(loaded)}`)
  return loaded.init.sid
}

describe('CookieSessionBackend: the id in the seal', () => {
  it('seals a random id, keeps it when re-sealed and replaces it when the session rotates', () => {
    const { keys, backend } = setup()
    const session = loggedIn()
    const first = backend.save(session, S0).value
    const sid = plaintext(keys, first).s
    assert.match(String(sid), REVOCATION_ID)
    assert.equal(loadedSid(backend, first), sid)
    const loaded = backend.load(first)
    assert.ok(loaded.ok)
    const again = new Session(loaded.init)
    const touched = backend.save(again, S0 + 100, first, false).value
    assert.notEqual(touched, first)
    assert.equal(plaintext(keys, touched).s, sid, 'a touch keeps the id')
    const rotated = backend.save(again, S0 + 200, touched, true).value
    assert.notEqual(plaintext(keys, rotated).s, sid, 'a rotation makes a new id')
  })

  it('reads a session sealed before ids as valid, and gives it an id at its next write', () => {
    const { keys, backend } = setup()
    const legacy = seal(keys, JSON.stringify({ c: S0, t: S0, a: { u: 'alice', f: 1 } }), NAME)
    const loaded = backend.load(legacy)
    assert.ok(loaded.ok)
    assert.equal(loaded.init.sid, undefined)
    assert.equal(loaded.init.auth.userId, 'alice')
    const session = new Session(loaded.init)
    const saved = backend.save(session, S0 + 100, legacy, false).value
    assert.match(String(plaintext(keys, saved).s), REVOCATION_ID)
  })

  it('refuses a sealed id of the wrong shape as malformed', () => {
    const { keys, backend } = setup()
    for (const s of [42, '', 'short', 'x'.repeat(23), 'x'.repeat(22), 'abc/def+ghi=jkl/mnopqA']) {
      const value = seal(keys, JSON.stringify({ s, c: S0, t: S0 }), NAME)
      assert.deepEqual(backend.load(value), { ok: false, reason: 'malformed' }, String(s))
    }
  })
})

describe('CookieSessionBackend: ending sessions', () => {
  it('end(value) refuses every copy of the session and every re-seal of it', () => {
    const { list, backend } = setup()
    const session = loggedIn()
    const value = backend.save(session, S0).value
    const sid = loadedSid(backend, value) as string
    const loaded = backend.load(value)
    assert.ok(loaded.ok)
    const touched = backend.save(new Session(loaded.init), S0 + 100, value, false).value
    const rotated = backend.save(new Session(loaded.init), S0 + 200, touched, true).value
    assert.equal(list.size, 0, 'saving, rotating included, revokes nothing by itself')
    backend.end(touched)
    assert.equal(list.has(sid), true)
    assert.deepEqual(backend.load(value), { ok: false, reason: 'ended' }, 'the cached copy')
    assert.deepEqual(backend.load(touched), { ok: false, reason: 'ended' }, 'the re-sealed one')
    assert.ok(backend.load(rotated).ok, 'the rotated session has an id of its own')
    backend.destroy()
    assert.equal(list.size, 1, 'destroy() is still a no-op for sealed cookies')
  })

  it('end(value) keeps the id listed until the session could not be valid anyway', () => {
    let now = T0
    const { list, backend } = setup(() => now)
    const value = backend.save(loggedIn(), S0).value
    const sid = loadedSid(backend, value) as string
    now += 600_000
    backend.end(value)
    assert.deepEqual(backend.load(value), { ok: false, reason: 'ended' })
    assert.equal(list.size, 1)
    // The entry lasts until the session could not be valid anyway.
    now = (S0 + ABSOLUTE) * 1000
    list.revoke(newRevocationId(), S0 + ABSOLUTE + 9999)
    assert.equal(list.has(sid), true, 'still listed at the timeout itself')
    now = (S0 + ABSOLUTE + 61) * 1000
    list.revoke(newRevocationId(), S0 + ABSOLUTE + 9999)
    assert.equal(list.has(sid), false, 'forgotten once the session is past its timeout')
  })

  it('does not list sessions that carry no login, have timed out, or do not open', () => {
    let now = T0
    const { list, backend } = setup(() => now)
    const anonymous = new Session({ createdAt: S0, lastActive: S0, isNew: true })
    anonymous.flash('hello')
    backend.end(backend.save(anonymous, S0).value)
    const idle = backend.save(loggedIn(), S0).value
    now += (IDLE + 10) * 1000
    backend.end(idle)
    backend.end('v1.not-a-seal')
    backend.end('')
    assert.equal(list.size, 0)
  })

  it('without a revocation list (the two-argument form) nothing is revoked', () => {
    const keys = new KeyRing([SECRET]).forPurpose('session')
    const backend = new CookieSessionBackend(keys, NAME)
    const value = backend.save(loggedIn(), S0).value
    backend.end(value)
    assert.ok(backend.load(value).ok)
  })
})

describe('RememberCodec: revocable sealed tokens', () => {
  const remember = () => {
    const keys = new KeyRing([SECRET]).forPurpose('remember')
    const list = new RevocationList({
      store: undefined,
      maxEntries: 1000,
      resyncInterval: 5,
      now: () => T0,
      onError: () => {},
    })
    return { list, codec: rememberCodecFor('sealed', keys, [SECRET], '__Host-remember', list) }
  }

  it('a revoked token decodes as ended; a re-issue with the same id is ended with it', () => {
    const { list, codec } = remember()
    const value = codec.encode('alice', 3600, undefined, S0)
    const decoded = codec.decode(value, S0)
    assert.ok(decoded.ok && decoded.id !== undefined)
    const reissued = codec.encode('alice', 3600, undefined, S0 + 10, decoded.id)
    codec.revoke(value, S0 + 20)
    assert.deepEqual(codec.decode(value, S0 + 30), { ok: false, reason: 'ended' })
    assert.deepEqual(codec.decode(reissued, S0 + 30), { ok: false, reason: 'ended' })
    assert.equal(codec.isEnded(decoded), true)
    assert.equal(list.size, 1)
  })

  it('keeps the entry until the token expires, or a duration from now if that is later', () => {
    let now = T0
    const keys = new KeyRing([SECRET]).forPurpose('remember')
    const list = new RevocationList({
      store: undefined,
      maxEntries: 1000,
      resyncInterval: 5,
      now: () => now,
      onError: () => {},
    })
    const codec = rememberCodecFor('sealed', keys, [SECRET], '__Host-remember', list)
    const value = codec.encode('alice', 3600, undefined, S0) // expires at S0 + 3600
    const decoded = codec.decode(value, S0)
    assert.ok(decoded.ok && decoded.id !== undefined)
    now = (S0 + 1800) * 1000
    codec.revoke(value, S0 + 1800) // a full duration from now is later: S0 + 5400, plus a minute
    const probe = (seconds: number) => {
      now = seconds * 1000
      list.revoke(newRevocationId(), seconds + 86_400) // any revocation prunes the list
      return list.has(decoded.id as string)
    }
    assert.equal(probe(S0 + 3600 + 120), true, 'kept past the token expiry')
    assert.equal(probe(S0 + 5400 + 59), true, 'kept a minute past a duration from the revocation')
    assert.equal(probe(S0 + 5400 + 60 + 120), false, 'then forgotten')
  })

  it('leaves Flask tokens, expired tokens and foreign values alone', () => {
    const { list, codec } = remember()
    const keys = new KeyRing([SECRET]).forPurpose('remember')
    const flask = rememberCodecFor('flask', keys, [SECRET], '__Host-remember', list)
    flask.revoke(flask.encode('alice', 3600, undefined, S0), S0)
    codec.revoke(codec.encode('alice', 60, undefined, S0), S0 + 120)
    codec.revoke('v1.garbage', S0)
    const legacy = seal(keys, JSON.stringify({ u: 'alice', e: S0 + 60 }), '__Host-remember')
    codec.revoke(legacy, S0)
    assert.ok(codec.decode(legacy, S0).ok, 'a token sealed before ids still works')
    assert.equal(list.size, 0)
    const bad = seal(keys, JSON.stringify({ i: 7, u: 'alice', e: S0 + 60 }), '__Host-remember')
    assert.deepEqual(codec.decode(bad, S0), { ok: false, reason: 'malformed' })
  })
})

describe('LoginManager: revocation options', () => {
  const base = { secret: SECRET, userLoader: () => null }
  const invalid = (error: unknown) =>
    error instanceof LoginManagerError && error.code === 'ERR_INVALID_OPTION'

  it('refuses bad settings at start-up with a message that says what to fix', () => {
    for (const revocation of [
      { maxEntries: 0 },
      { maxEntries: 1.5 },
      { resyncInterval: 0 },
      { resyncInterval: 7200 },
      { resyncInterval: Number.NaN },
      { store: {} },
      { store: { add: () => Promise.resolve() } },
    ]) {
      assert.throws(
        () => new LoginManager({ ...base, revocation: revocation as never }),
        invalid,
        JSON.stringify(revocation),
      )
    }
    assert.throws(
      () =>
        new LoginManager({
          ...base,
          session: { store: new MemoryStore() },
          revocation: { store: new MemoryRevocationStore() },
        }),
      /only cookie sessions use a revocation list/,
    )
  })

  it('cookie sessions get a list (ready at once without a store); store sessions none', async () => {
    const cookie = new LoginManager(base)
    assert.ok(cookie._revocations instanceof RevocationList)
    await cookie.ready()
    await cookie.close()
    const store = new LoginManager({ ...base, session: { store: new MemoryStore() } })
    assert.equal(store._revocations, undefined)
    await store.ready()
    await store.close()
  })

  it('reports store failures of the list as storeError events', async () => {
    const failing = {
      add: () => Promise.reject(new Error('down')),
      load: () => Promise.reject(new Error('down')),
    }
    const manager = new LoginManager({ ...base, revocation: { store: failing } })
    const heard: string[] = []
    manager.on('storeError', ({ operation, auth }) => {
      assert.equal(auth, undefined)
      heard.push(operation)
    })
    await assert.rejects(manager.ready(), /down/)
    const id = newRevocationId()
    manager._revocations?.revoke(id, Math.floor(Date.now() / 1000) + 60)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.ok(heard.includes('revocation.add'), heard.join())
    assert.equal(manager._revocations?.has(id), true, 'refused locally all the same')
    await manager.close()
  })
})
