/**
 * RedisStore behaviour that needs a server of its own: Redis going down and coming back, a slow
 * Redis, script caching, the prefix, and the one-script/two-step split of cluster mode. Each
 * test server is a `redis-server` spawned on a free port (never the shared one) and killed in an
 * `after` hook.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis, type RedisOptions } from 'ioredis'
import { createClient } from 'redis'
import type { SessionStore } from '../session/store.ts'
import { LoginManagerError } from '../shared/errors.ts'
import { type IoredisLikeClient, RedisStore, StoreUnavailableError } from './redis.ts'

const servers = new Set<ChildProcess>()

// Without the redis-server binary these tests cannot run: skipped locally, a failure on CI.
const noServer = spawnSync('redis-server', ['--version']).error
  ? 'the redis-server binary is not installed'
  : undefined
if (noServer !== undefined && process.env.CI !== 'true') console.log(`# skipping: ${noServer}`)
const skip = process.env.CI === 'true' ? false : (noServer ?? false)

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  assert.ok(address !== null && typeof address === 'object')
  return address.port
}

/** Starts `redis-server` on `port` and resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  servers.add(proc)
  proc.once('exit', () => servers.delete(proc))
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      5000,
    )
    proc.once('error', reject)
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)))
    proc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  return proc
}

async function stopRedis(proc: ChildProcess | undefined): Promise<void> {
  if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
  const exited = once(proc, 'exit')
  proc.kill('SIGKILL')
  await exited
}

after(async () => {
  await Promise.all([...servers].map((proc) => stopRedis(proc)))
})

function isUnavailable(reason?: 'timeout' | 'error', operation?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${err}`)
    assert.equal(err.code, 'ERR_STORE_UNAVAILABLE')
    assert.match(
      err.message,
      /^ERR_STORE_UNAVAILABLE: RedisStore\.\w+ failed \((timeout|error)\): /,
    )
    if (reason !== undefined) assert.equal(err.reason, reason)
    if (operation !== undefined) assert.equal(err.operation, `RedisStore.${operation}`)
    if (err.reason === 'error') assert.ok(err.cause !== undefined, 'the client error is the cause')
    return true
  }
}

/** Every operation of the store, each as a thunk (for "all of them reject" checks). */
function everyOperation(store: SessionStore, key: string): [string, () => Promise<unknown>][] {
  return [
    ['get', () => store.get(key)],
    ['write', () => store.write(key, { mode: 'create', set: { u: '1' }, ttl: 60 })],
    ['touch', () => store.touch(key, 60)],
    ['destroy', () => store.destroy(key, 'lm:{t}:idx')],
    ['members', () => store.members('lm:{t}:idx')],
    ['destroyIndex', () => store.destroyIndex('lm:{t}:idx')],
  ]
}

/** Parsed `INFO commandstats`: calls per command. */
async function commandCalls(admin: Redis): Promise<Record<string, number>> {
  const info = String(await admin.call('INFO', 'commandstats'))
  const calls: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
    calls[match[1]!] = Number(match[2])
  }
  return calls
}

async function readyIoredis(
  port: number,
  options: Pick<RedisOptions, 'maxRetriesPerRequest' | 'enableOfflineQueue' | 'retryStrategy'> = {},
) {
  const client = new Redis({ host: '127.0.0.1', port, ...options })
  const errors: Error[] = []
  client.on('error', (err) => errors.push(err))
  if (client.status !== 'ready') await once(client, 'ready')
  return { client, errors }
}

describe('RedisStore (own redis-server)', { skip }, () => {
  let port: number
  let admin: Redis
  let io: Redis
  let nr: ReturnType<typeof createClient>
  const stores = (options: { prefix?: string; cluster?: boolean } = {}) =>
    [
      ['ioredis', new RedisStore({ client: io, ...options })],
      ['node-redis', new RedisStore({ client: nr, ...options })],
    ] as const

  before(async () => {
    port = await freePort()
    await startRedis(port)
    admin = (await readyIoredis(port)).client
    io = (await readyIoredis(port)).client
    nr = createClient({ socket: { host: '127.0.0.1', port } })
    nr.on('error', () => {})
    await nr.connect()
  })
  after(async () => {
    admin?.disconnect()
    io?.disconnect()
    nr?.destroy()
  })

  it('refuses a client it cannot drive, a prefix with braces and a bad commandTimeout', () => {
    const invalid = (err: unknown) =>
      err instanceof LoginManagerError && err.code === 'ERR_INVALID_OPTION'
    for (const client of [{}, null, undefined, { call: 'x' }, { sendCommand: 1 }]) {
      assert.throws(
        () => new RedisStore({ client: client as unknown as IoredisLikeClient }),
        invalid,
        String(client),
      )
    }
    assert.throws(() => new RedisStore({ client: io, prefix: 'app{1}:' }), invalid)
    assert.throws(() => new RedisStore({ client: io, prefix: 'app}' }), invalid)
    for (const commandTimeout of [0, -5, Number.NaN]) {
      assert.throws(() => new RedisStore({ client: io, commandTimeout }), invalid)
    }
    assert.doesNotThrow(() => new RedisStore({ client: io, commandTimeout: Infinity }))
  })

  it('drives any client by its shape: call (ioredis), sendCommand (node-redis, node-redis cluster)', async () => {
    const seen: string[] = []
    const call = (...args: string[]) => io.call(args[0]!, ...args.slice(1))
    const clients = {
      call: {
        call: (command: string, ...args: string[]) => {
          seen.push(`call ${command}`)
          return call(command, ...args)
        },
      },
      sendCommand: {
        sendCommand: (args: string[]) => {
          seen.push(`sendCommand ${args[0]}`)
          return call(...args)
        },
      },
      cluster: {
        getSlotMaster: () => ({}),
        sendCommand: (
          firstKey: string | undefined,
          isReadonly: boolean | undefined,
          args: string[],
        ) => {
          seen.push(`cluster ${firstKey} ${isReadonly} ${args[0]}`)
          return call(...args)
        },
      },
    }
    for (const [name, client] of Object.entries(clients)) {
      const store = new RedisStore({ client, prefix: `shape-${name}:` })
      const key = `lm:{${name}}:s:1`
      assert.equal(await store.write(key, { mode: 'create', set: { u: name }, ttl: 60 }), true)
      assert.deepEqual({ ...(await store.get(key)) }, { u: name })
    }
    assert.ok(seen.includes('call EVALSHA'))
    assert.ok(seen.includes('sendCommand EVALSHA'))
    assert.ok(seen.includes('cluster shape-cluster:lm:{cluster}:s:1 false EVALSHA'))
  })

  it('works with a node-redis RESP3 client (replies decoded the same way)', async () => {
    const resp3 = createClient({ socket: { host: '127.0.0.1', port }, RESP: 3 })
    resp3.on('error', () => {})
    await resp3.connect()
    try {
      const store = new RedisStore({ client: resp3, prefix: 'resp3:' })
      const fields = { u: '1', 'ü 🍪': '"x"' }
      assert.equal(
        await store.write('lm:{r}:s:1', {
          mode: 'create',
          set: fields,
          ttl: 60,
          index: 'lm:{r}:idx',
        }),
        true,
      )
      assert.deepEqual({ ...(await store.get('lm:{r}:s:1')) }, fields)
      assert.equal(await store.get('lm:{r}:s:2'), null)
      assert.deepEqual(await store.members('lm:{r}:idx'), ['lm:{r}:s:1'])
      assert.equal(await store.destroyIndex('lm:{r}:idx'), 1)
    } finally {
      resp3.destroy()
    }
  })

  it('applies the prefix to every key it writes, and only finds its own keys', async () => {
    for (const [name, store] of stores({ prefix: 'app1:' })) {
      const t = `prefix-${name}`
      const [a, b, c] = [`lm:{${t}}:s:a`, `lm:{${t}}:s:b`, `lm:{${t}}:s:c`]
      const index = `lm:{${t}}:idx`
      await store.write(a, { mode: 'create', set: { u: '1' }, ttl: 60, index })
      await store.write(b, { mode: 'create', set: { u: '1' }, ttl: 60, index })
      await store.write(c, {
        mode: 'create',
        set: { u: '1' },
        ttl: 60,
        index,
        replaces: b,
        replacesIndex: index,
      })
      await store.touch(c, 120, { t: '2' })
      assert.deepEqual((await store.members(index)).sort(), [a, c], 'members are the keys as given')
      const keys = (await admin.call('KEYS', `*${t}*`)) as string[]
      assert.deepEqual(keys.sort(), [`app1:${a}`, `app1:${c}`, `app1:${index}`].sort())
      const other = new RedisStore({ client: io, prefix: 'app2:' })
      assert.equal(await other.get(a), null)
      assert.deepEqual(await other.members(index), [])
      assert.equal(await other.destroyIndex(index), 0)
      assert.equal(await store.destroyIndex(index), 2)
      assert.deepEqual(await admin.call('KEYS', `*${t}*`), [])
    }
  })

  it('loads each script once, and recovers after SCRIPT FLUSH (NOSCRIPT → EVAL)', async () => {
    for (const [name, store] of stores({ prefix: 'scripts:' })) {
      await admin.call('SCRIPT', 'FLUSH')
      await admin.call('CONFIG', 'RESETSTAT')
      for (let i = 0; i < 5; i++) {
        await store.write(`lm:{${name}}:s:${i}`, { mode: 'create', set: { u: '1' }, ttl: 60 })
      }
      let calls = await commandCalls(admin)
      assert.equal(calls.eval, 1, `${name}: the write script was sent in full once`)
      assert.ok((calls.evalsha ?? 0) >= 5, `${name}: then by sha`)
      await admin.call('SCRIPT', 'FLUSH')
      for (let i = 0; i < 3; i++) {
        assert.notEqual(await store.get(`lm:{${name}}:s:${i}`), null)
        await store.write(`lm:{${name}}:s:${i}`, { mode: 'update', set: { i: String(i) }, ttl: 60 })
      }
      calls = await commandCalls(admin)
      assert.equal(
        calls.eval,
        3,
        `${name}: get and write scripts re-sent once each after the flush`,
      )
      assert.deepEqual({ ...(await store.get(`lm:{${name}}:s:2`)) }, { u: '1', i: '2' })
    }
  })

  it('ttl: whole seconds rounded up (at least 1); the index ttl only grows and covers its records', async () => {
    const store = new RedisStore({ client: nr, prefix: 'ttl:' })
    await store.write('lm:{t}:s:zero', { mode: 'create', set: { u: '1' }, ttl: 0.01 })
    await store.write('lm:{t}:s:frac', { mode: 'create', set: { u: '1' }, ttl: 1.2 })
    assert.equal(await admin.call('TTL', 'ttl:lm:{t}:s:zero'), 1)
    assert.equal(await admin.call('TTL', 'ttl:lm:{t}:s:frac'), 2)
    // An index created elsewhere without a ttl gets one (EXPIRE GT alone would leave it forever).
    await admin.call('SADD', 'ttl:lm:{t}:idx', 'stale-member')
    await store.write('lm:{t}:s:a', {
      mode: 'create',
      set: { u: '1' },
      ttl: 100,
      index: 'lm:{t}:idx',
    })
    assert.equal(await admin.call('TTL', 'ttl:lm:{t}:idx'), 100)
    await store.write('lm:{t}:s:b', {
      mode: 'create',
      set: { u: '1' },
      ttl: 10,
      index: 'lm:{t}:idx',
    })
    assert.equal(
      await admin.call('TTL', 'ttl:lm:{t}:idx'),
      100,
      'a shorter record does not shorten it',
    )
    await store.write('lm:{t}:s:b', { mode: 'update', set: {}, ttl: 500, index: 'lm:{t}:idx' })
    assert.equal(await admin.call('TTL', 'ttl:lm:{t}:idx'), 500)
    assert.deepEqual((await store.members('lm:{t}:idx')).sort(), ['lm:{t}:s:a', 'lm:{t}:s:b'])
    assert.equal(await admin.call('SISMEMBER', 'ttl:lm:{t}:idx', 'stale-member'), 0, 'pruned')
    await assert.rejects(store.touch('lm:{t}:s:a', Number.NaN), RangeError)
    await assert.rejects(
      store.write('lm:{t}:s:c', { mode: 'create', set: {}, ttl: 5 }),
      RangeError,
      'a create without fields (an empty hash cannot exist)',
    )
  })

  it('an update that removes every field deletes the record', async () => {
    for (const [name, store] of stores({ prefix: 'empty:' })) {
      const key = `lm:{${name}}:s:1`
      await store.write(key, {
        mode: 'create',
        set: { u: '1' },
        ttl: 60,
        index: `lm:{${name}}:idx`,
      })
      const emptied = await store.write(key, { mode: 'update', set: {}, remove: ['u'], ttl: 60 })
      assert.equal(emptied, true)
      assert.equal(await store.get(key), null)
      assert.deepEqual(await store.members(`lm:{${name}}:idx`), [])
    }
  })

  it('nothing half-written: a write that fails (wrong key type) changes nothing', async () => {
    for (const [name, store] of stores({ prefix: 'half:' })) {
      const t = `half-${name}`
      const [key, old] = [`lm:{${t}}:s:new`, `lm:{${t}}:s:old`]
      await store.write(old, { mode: 'create', set: { u: '1' }, ttl: 60, index: `lm:{${t}}:idx` })
      await admin.call('SET', `half:lm:{${t}}:bad`, 'a string, not a set')
      await assert.rejects(
        store.write(key, {
          mode: 'create',
          set: { u: '1' },
          ttl: 60,
          index: `lm:{${t}}:bad`,
          replaces: old,
          replacesIndex: `lm:{${t}}:idx`,
        }),
        (err: unknown) =>
          isUnavailable('error', 'write')(err) && /WRONGTYPE/.test((err as Error).message),
      )
      assert.equal(await store.get(key), null)
      assert.deepEqual({ ...(await store.get(old)) }, { u: '1' })
      assert.deepEqual(await store.members(`lm:{${t}}:idx`), [old])
      await admin.call('SET', `half:lm:{${t}}:str`, 'x')
      await assert.rejects(store.touch(`lm:{${t}}:str`, 60, { a: 'b' }), isUnavailable('error'))
      await assert.rejects(store.destroy(old, `lm:{${t}}:bad`), isUnavailable('error'))
      assert.notEqual(await store.get(old), null, 'destroy checked the index before deleting')
    }
  })

  it('a rotation is one script; with cluster: true a cross-slot one takes two steps, both done', async () => {
    const cases = [
      { cluster: false, oldTag: 'u1', scripts: 1 },
      { cluster: false, oldTag: 'other', scripts: 1 },
      { cluster: true, oldTag: 'u1', scripts: 1 },
      { cluster: true, oldTag: 'other', scripts: 2 },
    ]
    for (const { cluster, oldTag, scripts } of cases) {
      const store = new RedisStore({ client: io, prefix: `rot-${cluster}-${oldTag}:`, cluster })
      const old = `lm:{${oldTag}}:s:old`
      const next = `lm:{u1}:s:new`
      await store.write(old, {
        mode: 'create',
        set: { v: 'old' },
        ttl: 60,
        index: `lm:{${oldTag}}:idx`,
      })
      await store.get(next) // the get script is cached, so only write scripts count below
      await admin.call('CONFIG', 'RESETSTAT')
      const rotated = await store.write(next, {
        mode: 'create',
        set: { v: 'new' },
        ttl: 60,
        index: 'lm:{u1}:idx',
        replaces: old,
        replacesIndex: `lm:{${oldTag}}:idx`,
      })
      const calls = await commandCalls(admin)
      const label = `cluster: ${cluster}, old in {${oldTag}}`
      assert.equal(rotated, true, label)
      assert.equal((calls.evalsha ?? 0) + (calls.eval ?? 0), scripts, label)
      assert.equal(await store.get(old), null, label)
      assert.deepEqual({ ...(await store.get(next)) }, { v: 'new' }, label)
      assert.deepEqual(await store.members(`lm:{${oldTag}}:idx`), oldTag === 'u1' ? [next] : [])
      assert.deepEqual(await store.members('lm:{u1}:idx'), [next], label)
    }
  })

  it('cluster: true never sends one command with keys of two slots', async () => {
    const violations: string[] = []
    const tagOf = (key: string) => /\{([^}]+)\}/.exec(key)?.[1] ?? key
    const client = {
      call(command: string, ...args: string[]) {
        const keys =
          command === 'EVALSHA' || command === 'EVAL'
            ? args.slice(2, 2 + Number(args[1]))
            : command === 'SCRIPT'
              ? []
              : [args[0]!]
        if (new Set(keys.map(tagOf)).size > 1) violations.push(`${command} ${keys.join(' ')}`)
        return io.call(command, ...args)
      },
    }
    const store = new RedisStore({ client, prefix: 'xslot:', cluster: true })
    const w = { mode: 'create', set: { u: '1' }, ttl: 60 } as const
    await store.write('lm:{a}:s:1', { ...w, index: 'lm:{idx}:i' })
    await store.write('lm:{b}:s:2', { ...w, index: 'lm:{idx}:i' })
    await store.write('lm:{c}:s:3', {
      ...w,
      index: 'lm:{idx}:i',
      replaces: 'lm:{a}:s:1',
      replacesIndex: 'lm:{idx}:i',
    })
    await store.write('lm:{idx}:s:4', {
      ...w,
      index: 'lm:{idx}:i',
      replaces: 'lm:{b}:s:2',
      replacesIndex: 'lm:{zz}:i',
    })
    await store.write('lm:{c}:s:3', {
      mode: 'update',
      set: { t: '1' },
      ttl: 60,
      index: 'lm:{idx}:i',
    })
    assert.equal(await store.get('lm:{a}:s:1'), null)
    assert.equal(await store.get('lm:{b}:s:2'), null)
    assert.deepEqual((await store.members('lm:{idx}:i')).sort(), ['lm:{c}:s:3', 'lm:{idx}:s:4'])
    await store.destroy('lm:{c}:s:3', 'lm:{idx}:i')
    assert.deepEqual(await store.members('lm:{idx}:i'), ['lm:{idx}:s:4'])
    await store.write('lm:{d}:s:5', { ...w, index: 'lm:{idx}:i' })
    await store.write('lm:{e}:s:6', { ...w, index: 'lm:{idx}:i' })
    await store.destroy('lm:{e}:s:6')
    assert.equal(await store.destroyIndex('lm:{idx}:i', ['lm:{idx}:s:4']), 1)
    assert.deepEqual(await store.members('lm:{idx}:i'), ['lm:{idx}:s:4'])
    assert.deepEqual(violations, [])
  })

  it('cluster: true, requires in another slot: checked before and after; a create whose requirement went in between is undone', async () => {
    const violations: string[] = []
    const tagOf = (key: string) => /\{([^}]+)\}/.exec(key)?.[1] ?? key
    const prefix = 'xreq:'
    /** Deleted right after the next script that writes this record (a logout in between). */
    let race: { record: string; required: string } | undefined
    const client = {
      async call(command: string, ...args: string[]) {
        const script = command === 'EVALSHA' || command === 'EVAL'
        const keys = script ? args.slice(2, 2 + Number(args[1])) : [args[0]!]
        if (new Set(keys.map(tagOf)).size > 1) violations.push(`${command} ${keys.join(' ')}`)
        const reply = await io.call(command, ...args)
        if (script && race !== undefined && keys[0] === prefix + race.record) {
          await io.call('DEL', prefix + race.required)
          race = undefined
        }
        return reply
      },
    }
    const store = new RedisStore({ client, prefix, cluster: true })
    const token = 'lm:{old}:r:token'
    const index = 'lm:{u1}:idx'
    const create = (key: string, mode: 'create' | 'update' = 'create') =>
      store.write(key, { mode, set: { u: '1' }, ttl: 60, index, requires: token })
    await store.write(token, { mode: 'create', set: { h: 'x' }, ttl: 60 })
    assert.equal(await create('lm:{u1}:s:1'), true, 'the required key exists')
    assert.equal(await create('lm:{u1}:s:1', 'update'), true)
    race = { record: 'lm:{u1}:s:2', required: token }
    assert.equal(await create('lm:{u1}:s:2'), false, 'the requirement went during the write')
    assert.equal(await store.get('lm:{u1}:s:2'), null, 'the create was undone')
    assert.equal(await create('lm:{u1}:s:3'), false, 'the required key is gone')
    assert.equal(await create('lm:{u1}:s:1', 'update'), false)
    assert.equal(await store.get('lm:{u1}:s:3'), null)
    assert.deepEqual(await store.members(index), ['lm:{u1}:s:1'])
    assert.deepEqual(violations, [])
  })

  it('a slow Redis: an operation rejects with reason timeout after commandTimeout', async () => {
    for (const [name, client] of [
      ['ioredis', io],
      ['node-redis', nr],
    ] as const) {
      const fast = new RedisStore({ client, commandTimeout: 50 })
      await fast.get('lm:{warm}:s:1') // scripts loaded
      await admin.call('CLIENT', 'PAUSE', '300')
      const started = performance.now()
      await assert.rejects(fast.get('lm:{slow}:s:1'), (err: unknown) => {
        isUnavailable('timeout', 'get')(err)
        assert.match((err as Error).message, /timeout\): no reply from Redis within 50 ms/)
        return true
      })
      await assert.rejects(
        fast.write('lm:{slow}:s:1', { mode: 'create', set: { u: '1' }, ttl: 60 }),
        isUnavailable('timeout', 'write'),
      )
      const elapsed = performance.now() - started
      assert.ok(elapsed < 250, `${name}: rejected after ${Math.round(elapsed)} ms, not 300+`)
      await sleep(320)
      // A timed-out write can still be applied (whole) once Redis gets to it.
      assert.deepEqual({ ...(await fast.get('lm:{slow}:s:1')) }, { u: '1' })
      await fast.destroy('lm:{slow}:s:1')
    }
  })
})

describe('RedisStore while Redis is down', { skip }, () => {
  let port: number
  let proc: ChildProcess | undefined
  const clients: {
    name: string
    store: SessionStore
    errors: Error[]
    /** No offline queue: the client fails at once; with one, only commandTimeout ends the wait. */
    reason: 'error' | 'timeout'
    close(): unknown
  }[] = []
  const commandTimeout = 400

  before(async () => {
    port = await freePort()
    proc = await startRedis(port)
    // Fail fast: no offline queue.
    const fastIo = await readyIoredis(port, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    })
    // ioredis defaults: commands queue while disconnected; only commandTimeout ends the wait.
    const queuingIo = await readyIoredis(port, { retryStrategy: () => 50 })
    const fastNr = createClient({
      socket: { host: '127.0.0.1', port, reconnectStrategy: () => 50 },
      disableOfflineQueue: true,
    })
    const nrErrors: Error[] = []
    fastNr.on('error', (err: Error) => nrErrors.push(err))
    await fastNr.connect()
    const queuingNr = createClient({
      socket: { host: '127.0.0.1', port, reconnectStrategy: () => 50 },
    })
    const queuingNrErrors: Error[] = []
    queuingNr.on('error', (err: Error) => queuingNrErrors.push(err))
    await queuingNr.connect()
    clients.push(
      {
        name: 'ioredis (no offline queue)',
        reason: 'error',
        store: new RedisStore({ client: fastIo.client, commandTimeout }),
        errors: fastIo.errors,
        close: () => fastIo.client.disconnect(),
      },
      {
        name: 'ioredis (defaults)',
        reason: 'timeout',
        store: new RedisStore({ client: queuingIo.client, commandTimeout }),
        errors: queuingIo.errors,
        close: () => queuingIo.client.disconnect(),
      },
      {
        name: 'node-redis (disableOfflineQueue)',
        reason: 'error',
        store: new RedisStore({ client: fastNr, commandTimeout }),
        errors: nrErrors,
        close: () => fastNr.destroy(),
      },
      {
        name: 'node-redis (defaults)',
        reason: 'timeout',
        store: new RedisStore({ client: queuingNr, commandTimeout }),
        errors: queuingNrErrors,
        close: () => queuingNr.destroy(),
      },
    )
  })
  after(async () => {
    for (const client of clients) client.close()
    await stopRedis(proc)
  })

  it('every operation rejects with StoreUnavailableError within commandTimeout, then works again after a restart', async () => {
    for (const { name, store } of clients) {
      const key = `lm:{down}:s:${name}`
      assert.equal(await store.write(key, { mode: 'create', set: { u: '1' }, ttl: 60 }), true)
    }
    await stopRedis(proc)

    await Promise.all(
      clients.flatMap(({ name, store, reason }) =>
        everyOperation(store, `lm:{down}:s:${name}`).map(async ([operation, call]) => {
          const started = performance.now()
          await assert.rejects(call(), isUnavailable(reason, operation), `${name} ${operation}`)
          const elapsed = performance.now() - started
          assert.ok(
            elapsed < commandTimeout + 150,
            `${name} ${operation}: ${Math.round(elapsed)} ms`,
          )
        }),
      ),
    )
    for (const { name, errors } of clients) {
      assert.ok(errors.length > 0, `${name}: the client reported the outage on its 'error' event`)
    }

    proc = await startRedis(port)
    await Promise.all(
      clients.map(async ({ name, store }) => {
        const key = `lm:{up}:s:${name}`
        const deadline = Date.now() + 5_000
        for (;;) {
          try {
            await store.get(key)
            break
          } catch (err) {
            assert.ok(err instanceof StoreUnavailableError)
            assert.ok(Date.now() < deadline, `${name} did not reconnect`)
            await sleep(50)
          }
        }
        const index = 'lm:{up}:idx'
        assert.equal(
          await store.write(key, { mode: 'create', set: { u: '1' }, ttl: 60, index }),
          true,
        )
        assert.deepEqual({ ...(await store.get(key)) }, { u: '1' })
        assert.equal(await store.touch(key, 60, { t: '1' }), true)
        assert.ok((await store.members(index)).includes(key))
        await store.destroy(key, index)
        assert.equal(await store.get(key), null)
      }),
    )
  })
})
