import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  newRevocationId,
  REVOCATION_ID,
  type RevocationBatch,
  type RevocationEntry,
  RevocationList,
  type RevocationListener,
  type RevocationStore,
} from './revocations.ts'

const T0 = Date.UTC(2030, 0, 1, 12) // ms
const S0 = T0 / 1000

function clock(start = T0) {
  const c = { ms: start, now: () => c.ms }
  return c
}

/** A store whose answers a test controls: it records writes and can be made to fail. */
class ScriptedStore implements RevocationStore {
  readonly written: RevocationEntry[][] = []
  held: RevocationEntry[] = []
  loads: (string | undefined)[] = []
  failAdds = 0
  failLoads = 0
  listener: RevocationListener | undefined
  unsubscribed = false

  async add(entries: readonly RevocationEntry[]): Promise<void> {
    if (this.failAdds > 0) {
      this.failAdds--
      throw new Error('store down (add)')
    }
    this.written.push([...entries])
  }

  async load(cursor?: string): Promise<RevocationBatch> {
    this.loads.push(cursor)
    if (this.failLoads > 0) {
      this.failLoads--
      throw new Error('store down (load)')
    }
    return { entries: this.held, cursor: String(this.loads.length) }
  }

  subscribe(listener: RevocationListener): () => Promise<void> {
    this.listener = listener
    return async () => {
      this.unsubscribed = true
    }
  }
}

function list(
  options: {
    store?: RevocationStore
    maxEntries?: number
    resyncInterval?: number
    now?: () => number
  } = {},
) {
  const errors: { operation: string; error: unknown }[] = []
  const revocations = new RevocationList({
    store: options.store,
    maxEntries: options.maxEntries ?? 1000,
    resyncInterval: options.resyncInterval ?? 3600,
    now: options.now ?? (() => T0),
    onError: (operation, error) => errors.push({ operation, error }),
  })
  return { revocations, errors }
}

const until = (predicate: () => boolean, ms = 5000) =>
  new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + ms
    const poll = () => {
      if (predicate()) resolve()
      else if (Date.now() > deadline) reject(new Error('condition not reached'))
      else setTimeout(poll, 5)
    }
    poll()
  })

describe('newRevocationId', () => {
  it('is 128 random bits in base64url, different every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, newRevocationId))
    assert.equal(ids.size, 1000)
    for (const id of ids) assert.match(id, REVOCATION_ID)
  })
})

describe('RevocationList without a store', () => {
  it('answers has() for what was revoked, and is ready at once', async () => {
    const { revocations } = list()
    await revocations.ready()
    const id = newRevocationId()
    assert.equal(revocations.has(id), false)
    revocations.revoke(id, S0 + 60)
    assert.equal(revocations.has(id), true)
    assert.equal(revocations.size, 1)
    assert.equal(revocations.unsent, 0, 'nothing to send without a store')
  })

  it('does not keep an entry already past its expiry', () => {
    const { revocations } = list()
    revocations.revoke(newRevocationId(), S0)
    revocations.revoke(newRevocationId(), S0 - 100)
    assert.equal(revocations.size, 0)
  })

  it('forgets entries once their minute has passed, and keeps an extended one', () => {
    const c = clock()
    const { revocations } = list({ now: c.now })
    const short = newRevocationId()
    const long = newRevocationId()
    const extended = newRevocationId()
    revocations.revoke(short, S0 + 30)
    revocations.revoke(long, S0 + 3600)
    revocations.revoke(extended, S0 + 30)
    revocations.revoke(extended, S0 + 7200) // a later revocation with a longer life wins
    c.ms += 120_000
    revocations.revoke(newRevocationId(), S0 + 9000) // any revocation prunes on the way
    assert.equal(revocations.has(short), false)
    assert.equal(revocations.has(long), true)
    assert.equal(revocations.has(extended), true)
    c.ms += 3600_000
    revocations.revoke(newRevocationId(), S0 + 9000)
    assert.equal(revocations.has(long), false)
    assert.equal(revocations.has(extended), true)
    c.ms += 400 * 24 * 3600_000 // a clock far ahead: everything goes
    revocations.revoke(newRevocationId(), (c.ms + 60_000) / 1000)
    assert.equal(revocations.has(extended), false)
    assert.equal(revocations.size, 1)
  })

  it('is bounded: past maxEntries the ids closest to their timeout go first, reported once a minute', () => {
    const c = clock()
    const { revocations, errors } = list({ maxEntries: 3, now: c.now })
    const soon = newRevocationId()
    const later = [newRevocationId(), newRevocationId(), newRevocationId()]
    revocations.revoke(soon, S0 + 120)
    later.forEach((id, i) => {
      revocations.revoke(id, S0 + 7200 + i * 600)
    })
    assert.equal(revocations.size, 3)
    assert.equal(revocations.has(soon), false, 'the entry expiring first was dropped')
    for (const id of later) assert.equal(revocations.has(id), true)
    assert.equal(errors.length, 1)
    assert.equal(errors[0]?.operation, 'revocation.full')
    assert.match(String((errors[0]?.error as Error | undefined)?.message), /maxEntries = 3/)
    revocations.revoke(newRevocationId(), S0 + 9000)
    assert.equal(revocations.size, 3)
    assert.equal(errors.length, 1, 'not reported again within the minute')
    for (let i = 0; i < 50; i++) revocations.revoke(newRevocationId(), S0 + 100 + i)
    assert.equal(revocations.size, 3, 'never more than maxEntries')
  })
})

describe('RevocationList with a store', () => {
  it('loads what the store holds before ready() resolves, then resyncs from its cursor', async () => {
    const store = new ScriptedStore()
    const held = newRevocationId()
    store.held = [
      { id: held, expiresAt: S0 + 60 },
      { id: 'not an id', expiresAt: S0 + 60 },
      { id: newRevocationId(), expiresAt: S0 - 1 },
    ]
    const { revocations } = list({ store, resyncInterval: 0.1 })
    await revocations.ready()
    assert.equal(revocations.has(held), true)
    assert.equal(revocations.size, 1, 'malformed and expired entries are skipped')
    assert.deepEqual(store.loads, [undefined])
    await until(() => store.loads.length >= 3)
    assert.equal(store.loads[1], '1', 'a resync passes the cursor of the previous load')
    await revocations.close()
  })

  it('writes revocations through, in one batch per turn', async () => {
    const store = new ScriptedStore()
    const { revocations } = list({ store })
    await revocations.ready()
    const ids = [newRevocationId(), newRevocationId()]
    for (const id of ids) revocations.revoke(id, S0 + 60)
    assert.equal(revocations.unsent, 2)
    await until(() => revocations.unsent === 0)
    assert.deepEqual(store.written, [ids.map((id) => ({ id, expiresAt: S0 + 60 }))])
    revocations.revoke(ids[0] as string, S0 + 60)
    assert.equal(revocations.unsent, 0, 'an id already known is not written again')
    await revocations.close()
  })

  it('keeps refusing while the store is down, reports it, and retries until the write lands', async () => {
    const store = new ScriptedStore()
    store.failAdds = 2
    const { revocations, errors } = list({ store })
    await revocations.ready()
    const id = newRevocationId()
    revocations.revoke(id, S0 + 60)
    assert.equal(revocations.has(id), true, 'refused here at once')
    await until(() => store.written.length === 1, 10_000)
    assert.deepEqual(store.written[0], [{ id, expiresAt: S0 + 60 }])
    assert.deepEqual(
      errors.map((e) => e.operation),
      ['revocation.add', 'revocation.add'],
    )
    assert.equal(revocations.unsent, 0)
    await revocations.close()
  })

  it('keeps at most maxEntries unsent revocations while the store is down', async () => {
    const store = new ScriptedStore()
    store.failAdds = 1000
    const { revocations } = list({ store, maxEntries: 3 })
    await revocations.ready()
    for (let i = 0; i < 10; i++) revocations.revoke(newRevocationId(), S0 + 600 + i)
    assert.equal(revocations.size, 3)
    assert.ok(revocations.unsent <= 3, String(revocations.unsent))
    await revocations.close()
  })

  it('ready() rejects when the first load fails; the list keeps trying and catches up', async () => {
    const store = new ScriptedStore()
    store.failLoads = 1
    const held = newRevocationId()
    store.held = [{ id: held, expiresAt: S0 + 60 }]
    const { revocations, errors } = list({ store, resyncInterval: 0.1 })
    await assert.rejects(revocations.ready(), /store down \(load\)/)
    assert.equal(errors[0]?.operation, 'revocation.load')
    await until(() => revocations.has(held))
    assert.equal(store.loads[1], undefined, 'the retry is a full load again')
    await revocations.close()
  })

  it('learns pushed revocations at once, and loads again after a gap', async () => {
    const store = new ScriptedStore()
    const { revocations, errors } = list({ store })
    await revocations.ready()
    const pushed = newRevocationId()
    store.listener?.entries([{ id: pushed, expiresAt: S0 + 60 }])
    assert.equal(revocations.has(pushed), true)
    assert.equal(revocations.unsent, 0, 'what others revoked is not written back')
    const missed = newRevocationId()
    store.held = [{ id: missed, expiresAt: S0 + 60 }]
    store.listener?.gap()
    await until(() => revocations.has(missed))
    store.listener?.error(new Error('subscriber lost'))
    assert.equal(errors.at(-1)?.operation, 'revocation.subscribe')
    await revocations.close()
    assert.equal(store.unsubscribed, true)
    store.listener?.entries([{ id: newRevocationId(), expiresAt: S0 + 60 }])
    assert.equal(revocations.size, 2, 'nothing is learnt after close()')
  })

  it('close() makes one last attempt to write what is unsent', async () => {
    const store = new ScriptedStore()
    store.failAdds = 1
    const { revocations } = list({ store })
    await revocations.ready()
    const id = newRevocationId()
    revocations.revoke(id, S0 + 60)
    await until(() => store.failAdds === 0)
    await revocations.close()
    assert.deepEqual(store.written, [[{ id, expiresAt: S0 + 60 }]])
    assert.equal(revocations.unsent, 0)
  })
})
