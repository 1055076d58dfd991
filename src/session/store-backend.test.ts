import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KeyRing } from '../crypto/keys.ts'
import { LoginManagerError } from '../shared/errors.ts'
import { MemoryStore } from '../stores/memory.ts'
import { MAX_JSON_DEPTH, MAX_READ_BYTES, MAX_RECORD_BYTES } from './record-json.ts'
import { Session } from './session.ts'
import type { SessionStore } from './store.ts'
import { StoreSessionBackend } from './store-backend.ts'
import { StoreKeys } from './store-keys.ts'

const SECRET = 'Sb7!kQ2#vX9@pR4$wN6^mB1&cF8*hJ3%'
const NOW = 1_900_000_000
const TIMEOUTS = { idleTimeout: 3600, absoluteTimeout: 43_200 }

function setup(store: SessionStore = new MemoryStore({ now: () => NOW * 1000 })) {
  const ring = new KeyRing([SECRET])
  const keys = new StoreKeys(
    [ring.forPurpose('user-tag').current.raw],
    ring.forPurpose('session-id'),
  )
  const backend = new StoreSessionBackend(store, keys, TIMEOUTS)
  /** The store key behind a cookie value. */
  const keyOf = (value: string): string => {
    const opened = keys.open(value, ['id', 'tag'])
    assert.ok(opened !== null)
    const [id, tag] = opened.parts as [string, string]
    return keys.session(tag, id)
  }
  const indexOf = (value: string): string => {
    const opened = keys.open(value, ['id', 'tag'])
    assert.ok(opened !== null)
    return keys.index(opened.parts[1] as string)
  }
  /** Saves a new session and waits for the write; returns its cookie value and store key. */
  async function create(fill: (session: Session) => void = () => {}) {
    const session = new Session({ createdAt: NOW, lastActive: NOW, isNew: true })
    fill(session)
    const saved = backend.save(session, NOW, undefined, false)
    await saved.pending
    return { value: saved.value, key: keyOf(saved.value), session }
  }
  async function load(value: string): Promise<Session> {
    const loaded = await backend.load(value)
    assert.ok(loaded.ok, `loaded: ${JSON.stringify(loaded)}`)
    return new Session(loaded.init)
  }
  return { store, keys, backend, keyOf, indexOf, create, load }
}

const isAscii = (text: string) => /^[\x20-\x7e]*$/.test(text)
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

describe('store records: ASCII on the wire', () => {
  it('every field name and value written is ASCII, and reads back exactly', async () => {
    const { store, create, load } = setup()
    const { key, value } = await create((s) => {
      s._setAuth({ userId: '佐藤💥', fresh: true, next: '/x' })
      s.set('größe', { ключ: ['é', '\ud800', '\u2028'] })
      s.set('a"b\\c', 'quoted')
      s.set('cart', [1, 2])
      s.flash('Grüße, Müller', 'info')
    })
    const fields = (await store.get(key)) ?? {}
    assert.equal(fields.e, '1', 'the record says it is all ASCII')
    for (const [name, text] of Object.entries(fields)) {
      assert.ok(isAscii(name), `field name ${JSON.stringify(name)}`)
      assert.ok(isAscii(text), `value of ${name}: ${JSON.stringify(text)}`)
    }
    assert.ok('d:cart' in fields, 'plain keys keep their field name')
    const session = await load(value)
    assert.equal(session._auth.userId, '佐藤💥')
    assert.deepEqual(session.get('größe' as never), { ключ: ['é', '\ud800', '\u2028'] })
    assert.equal(session.get('a"b\\c' as never), 'quoted')
    assert.deepEqual(session._flashes, [{ category: 'info', message: 'Grüße, Müller' }])
  })

  it('updates keep the record ASCII', async () => {
    const { store, backend, create, load } = setup()
    const { key, value } = await create((s) => s.set('x', 1))
    const session = await load(value)
    session.set('naïve', 'café')
    session.delete('x')
    await backend.save(session, NOW + 1, value, false).pending
    const fields = (await store.get(key)) ?? {}
    for (const [name, text] of Object.entries(fields)) assert.ok(isAscii(name) && isAscii(text))
    assert.equal((await load(value)).get('naïve' as never), 'café')
    assert.equal((await load(value)).has('x'), false)
  })
})

describe('store records: a record that does not decode is no session, and is deleted', () => {
  const corruptions: Record<string, (fields: Record<string, string>) => void> = {
    'a value nested 100k levels deep': (f) => {
      f['d:deep'] = nested(100_000)
    },
    [`a value nested ${MAX_JSON_DEPTH + 1} levels deep`]: (f) => {
      f['d:deep'] = nested(MAX_JSON_DEPTH + 1)
    },
    'deeply nested login state': (f) => {
      f.a = `{"u":"alice","x":${nested(50_000)}}`
    },
    'invalid UTF-8, as a lenient decoder leaves it (U+FFFD)': (f) => {
      f['d:name'] = '"Mu\ufffd\ufffdller"'
    },
    'any non-ASCII character in a current-format record': (f) => {
      f['d:name'] = '"Müller"'
    },
    'a lone surrogate in a value': (f) => {
      f['d:name'] = '"\ud800"'
    },
    'a lone surrogate in a field name': (f) => {
      f['d:\udc00'] = '1'
    },
    'a broken escape in a field name': (f) => {
      f['d:\\q'] = '1'
    },
    'a value that is not JSON': (f) => {
      f['d:x'] = '{"open'
    },
    'login state of the wrong shape': (f) => {
      f.a = '[1,2]'
    },
    'a non-numeric creation time': (f) => {
      f.c = 'yesterday'
    },
    [`more than ${MAX_READ_BYTES} bytes`]: (f) => {
      f['d:big'] = JSON.stringify('b'.repeat(MAX_READ_BYTES))
    },
  }

  for (const [label, corrupt] of Object.entries(corruptions)) {
    it(label, async () => {
      const { store, backend, create, indexOf } = setup()
      const { key, value } = await create((s) => {
        s._setAuth({ userId: 'alice' })
        s.set('x', 1)
      })
      const fields = { ...((await store.get(key)) ?? {}) }
      corrupt(fields)
      await store.destroy(key)
      await store.write(key, { mode: 'create', set: fields, ttl: 60, index: indexOf(value) })
      const loaded = await backend.load(value)
      assert.deepEqual(loaded, { ok: false, reason: 'malformed' })
      assert.equal(await store.get(key), null, 'the record is deleted')
      assert.deepEqual(await store.members(indexOf(value)), [], 'and gone from its index')
    })
  }

  it('a failing delete does not fail the request', async () => {
    const inner = new MemoryStore({ now: () => NOW * 1000 })
    const store: SessionStore = {
      get: (key) => inner.get(key),
      write: (key, write) => inner.write(key, write),
      touch: (key, ttl, fields) => inner.touch(key, ttl, fields),
      destroy: async () => {
        throw new Error('store went away')
      },
      members: (index) => inner.members(index),
      destroyIndex: (index, keep) => inner.destroyIndex(index, keep),
    }
    const { backend, create } = setup(store)
    const { key, value } = await create((s) => s.set('x', 1))
    await inner.write(key, { mode: 'update', set: { 'd:x': nested(500) }, ttl: 60 })
    assert.deepEqual(await backend.load(value), { ok: false, reason: 'malformed' })
  })
})

describe('store records: markModified', () => {
  it('a value mutated in place and marked is written', async () => {
    const { backend, create, load } = setup()
    const { value } = await create((s) => s.set('cart', [1]))
    const session = await load(value)
    ;(session.get('cart' as never) as number[]).push(2)
    session.markModified()
    await backend.save(session, NOW, value, false).pending
    assert.deepEqual((await load(value)).get('cart' as never), [1, 2])
  })
})

describe('store records of the earlier format (UTF-8 as is, no format field)', () => {
  async function legacyRecord(extra: Record<string, string>) {
    const t = setup()
    const { key, value } = await t.create((s) => s.set('x', 1))
    await t.store.destroy(key)
    await t.store.write(key, {
      mode: 'create',
      set: { c: String(NOW), t: String(NOW), p: '0', a: '{"f":1,"n":"/佐藤"}', ...extra },
      ttl: 60,
    })
    return { ...t, key, value }
  }

  it('are read, non-ASCII names and values included', async () => {
    const { value, load } = await legacyRecord({ 'd:größe': '"groß"', f: '[["info","Grüße"]]' })
    const session = await load(value)
    assert.equal(session._auth.next, '/佐藤')
    assert.equal(session.get('größe' as never), 'groß')
    assert.deepEqual(session._flashes, [{ category: 'info', message: 'Grüße' }])
  })

  it('are refused with U+FFFD or a lone surrogate', async () => {
    for (const bad of ['"gro\ufffd"', '"\ud83d"']) {
      const { value, key, store, backend } = await legacyRecord({ 'd:x': bad })
      assert.deepEqual(await backend.load(value), { ok: false, reason: 'malformed' })
      assert.equal(await store.get(key), null)
    }
  })

  it('an update keeps their field names, so the record still reads as one session', async () => {
    const { value, key, store, backend, load } = await legacyRecord({ 'd:a\\b': '"raw name"' })
    const session = await load(value)
    assert.equal(session.get('a\\b' as never), 'raw name')
    session.set('a\\b', 'changed')
    session.set('größe', 'neu')
    await backend.save(session, NOW + 1, value, false).pending
    const fields = (await store.get(key)) ?? {}
    assert.equal(fields['d:a\\b'], '"changed"')
    assert.equal(fields['d:größe'], '"neu"')
    assert.equal(fields.e, undefined)
    const again = await load(value)
    assert.deepEqual(Object.fromEntries(again.keys().map((k) => [k, again.get(k as never)])), {
      'a\\b': 'changed',
      größe: 'neu',
    })
  })

  it('a rotation rewrites them in the current format', async () => {
    const { value, store, backend, load, keyOf } = await legacyRecord({ 'd:größe': '"groß"' })
    const session = await load(value)
    const saved = backend.save(session, NOW + 1, value, true)
    await saved.pending
    const fields = (await store.get(keyOf(saved.value))) ?? {}
    assert.equal(fields.e, '1')
    assert.equal(fields['d:gr\\u00f6\\u00dfe'], '"gro\\u00df"')
    assert.equal((await load(saved.value)).get('größe' as never), 'groß')
  })
})

describe(`store records: at most ${MAX_RECORD_BYTES} bytes on write`, () => {
  const tooLarge =
    (...names: string[]) =>
    (error: unknown) => {
      assert.ok(error instanceof LoginManagerError)
      assert.equal(error.code, 'ERR_SESSION_TOO_LARGE')
      assert.match(error.message, new RegExp(`over the ${MAX_RECORD_BYTES}-byte limit`))
      assert.match(
        error.message,
        new RegExp(`largest entries: ${names.map((n) => `${n} \\(\\d+ bytes\\)`).join(', ')}`),
      )
      return true
    }

  it('a new session over the limit throws before anything is written', async () => {
    const { store, backend } = setup()
    const session = new Session({ createdAt: NOW, lastActive: NOW, isNew: true })
    session.set('big', 'b'.repeat(MAX_RECORD_BYTES))
    session.set('small', 's'.repeat(100))
    assert.throws(() => backend.save(session, NOW, undefined, false), tooLarge("'big'", "'small'"))
    assert.equal((store as MemoryStore).size, 0)
  })

  it('an update over the limit throws and leaves the record as it was', async () => {
    const { store, backend, create, load } = setup()
    const { key, value } = await create((s) => {
      s._setAuth({ userId: 'alice' })
      s.set('keep', 'k')
    })
    const before = await store.get(key)
    const session = await load(value)
    session.set('keep', 'changed')
    session.set('notes', '佐'.repeat(MAX_RECORD_BYTES / 8))
    session.set('cart', 'c'.repeat(MAX_RECORD_BYTES / 2))
    assert.throws(() => backend.save(session, NOW + 1, value, false), tooLarge("'notes'", "'cart'"))
    assert.deepEqual(await store.get(key), before)
  })

  it('counts what is already stored: many small updates cannot pass the limit either', async () => {
    const { backend, create, load } = setup()
    const { value } = await create((s) => s.set('k0', 'x'.repeat(20_000)))
    let i = 1
    const grow = async () => {
      const session = await load(value)
      session.set(`k${i++}`, 'x'.repeat(20_000))
      await backend.save(session, NOW, value, false).pending
    }
    await grow()
    await grow()
    await assert.rejects(grow(), { code: 'ERR_SESSION_TOO_LARGE' })
    assert.equal((await load(value)).keys().length, 3)
  })

  it('a record read over the limit can still be written back unchanged, rotated or shrunk', async () => {
    const { store, backend, create, load, keyOf } = setup()
    const { key, value } = await create((s) => s.set('x', 1))
    // Written by something else (bookkeeping fields, an earlier version): over the write limit,
    // within the read limit.
    await store.write(key, {
      mode: 'update',
      set: { 'd:big': JSON.stringify('b'.repeat(MAX_RECORD_BYTES)) },
      ttl: 60,
    })
    const session = await load(value)
    session._setAuth({ userId: 'alice' })
    session._setAuth({})
    await backend.save(session, NOW, value, false).pending
    const rotated = backend.save(await load(value), NOW, value, true)
    await rotated.pending
    const shrunk = await load(rotated.value)
    shrunk.set('x', 2)
    shrunk.set('big', 'b'.repeat(MAX_RECORD_BYTES - 10))
    await backend.save(shrunk, NOW, rotated.value, false).pending
    assert.equal((await load(rotated.value)).get('x' as never), 2)
    assert.equal(await store.get(keyOf(value)), null)
  })

  it(`a value nested more than ${MAX_JSON_DEPTH} levels is refused on write, however deep`, async () => {
    const { backend, create, load } = setup()
    const { value } = await create((s) => s.set('tree', []))
    for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
      const session = await load(value)
      const tree = session.get('tree' as never) as unknown[]
      let inner = tree
      for (let i = 1; i < depth; i++) {
        const next: unknown[] = []
        inner.push(next)
        inner = next
      }
      session.markModified()
      assert.throws(() => backend.save(session, NOW, value, false), {
        code: 'ERR_SESSION_TOO_LARGE',
        message: new RegExp(`'tree' nests arrays and objects more than ${MAX_JSON_DEPTH} levels`),
      })
    }
    const ok = await load(value)
    ok.set('tree', JSON.parse(nested(MAX_JSON_DEPTH)))
    await backend.save(ok, NOW, value, false).pending
    assert.ok((await backend.load(value)).ok)
  })
})
