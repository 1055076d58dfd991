/**
 * Shared helpers of the server-side session tests (`sessions.test.ts`, `instances.test.ts`): the
 * Redis probe (skip locally, fail on CI), key clean-up, a spying store wrapper, store-key
 * arithmetic from cookie values, a private `redis-server` the tests may kill, and small utilities.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import type { SessionStore, StoreWrite } from 'login-manager'

/** The shared Redis of the test run. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** On CI a missing Redis (or redis-server) fails the suite instead of skipping it. */
export const ON_CI = process.env.CI === 'true'

/** Why Redis at `url` cannot be used, or null when it answers a PING. */
export async function probeRedis(url = REDIS_URL): Promise<string | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  let lastError: Error | undefined
  client.on('error', (err: Error) => {
    lastError = err
  })
  try {
    await client.connect()
    await client.ping()
    return null
  } catch (err) {
    const why = lastError?.message ?? (err instanceof Error ? err.message : String(err))
    return `Redis at ${url} is unreachable (${why})`
  } finally {
    client.disconnect()
  }
}

/** Why no private redis-server can be started, or null when the binary is there. */
export function probeRedisServer(): string | null {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (result.error !== undefined) return `redis-server cannot be run (${result.error.message})`
  return result.status === 0 ? null : `redis-server --version exited with ${result.status}`
}

/** A connected ioredis client for test bookkeeping (SCAN, PTTL, clean-up). */
export function rawClient(url = REDIS_URL): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  client.on('error', (err: Error) => console.error(`# ioredis (${url}): ${err.message}`))
  return client
}

/** Every key under `prefix` (SCAN). */
export async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await client.scan(
      cursor,
      'MATCH',
      `${escapeGlob(prefix)}*`,
      'COUNT',
      1000,
    )
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return [...new Set(keys)]
}

/** Deletes every key under `prefix` (SCAN, then DEL); returns how many were deleted. */
export async function deleteByPrefix(client: Redis, prefix: string): Promise<number> {
  let deleted = 0
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) deleted += await client.del(...keys)
  } while (cursor !== '0')
  return deleted
}

/** Everything under `prefix` as text (key names, hash fields and values, set members). */
export async function dumpRedis(client: Redis, prefix: string): Promise<string> {
  const lines: string[] = []
  for (const key of await scanKeys(client, prefix)) {
    const type = await client.type(key)
    if (type === 'hash') lines.push(`${key} ${JSON.stringify(await client.hgetall(key))}`)
    else if (type === 'set') lines.push(`${key} ${JSON.stringify(await client.smembers(key))}`)
    else if (type === 'string') lines.push(`${key} ${JSON.stringify(await client.get(key))}`)
    else if (type !== 'none') lines.push(`${key} <${type}>`)
  }
  return lines.join('\n')
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

// ------------------------------------------------------------------------------------ spy store

/** The operations of a {@link SessionStore}. */
export type StoreOp = 'get' | 'write' | 'touch' | 'destroy' | 'members' | 'destroyIndex'

/**
 * Wraps a store, counting every call and remembering every key it saw (records, indexes,
 * replaced keys), so a test can see what login-manager asked for and dump what is stored.
 */
export class SpyStore implements SessionStore {
  readonly inner: SessionStore
  readonly calls: Record<StoreOp, number> = {
    get: 0,
    write: 0,
    touch: 0,
    destroy: 0,
    members: 0,
    destroyIndex: 0,
  }
  readonly log: { op: StoreOp; key: string }[] = []
  /** Every record key and index key seen. */
  readonly seen = new Set<string>()

  constructor(inner: SessionStore) {
    this.inner = inner
  }

  /** Calls of every kind so far. */
  get total(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0)
  }

  /** write + touch calls so far. */
  get writes(): number {
    return this.calls.write + this.calls.touch
  }

  reset(): void {
    for (const op of Object.keys(this.calls) as StoreOp[]) this.calls[op] = 0
    this.log.length = 0
  }

  #note(op: StoreOp, key: string, ...more: (string | undefined)[]): void {
    this.calls[op]++
    this.log.push({ op, key })
    for (const k of [key, ...more]) if (k !== undefined) this.seen.add(k)
  }

  get(key: string) {
    this.#note('get', key)
    return this.inner.get(key)
  }
  write(key: string, write: StoreWrite) {
    this.#note('write', key, write.index, write.replaces, write.replacesIndex)
    return this.inner.write(key, write)
  }
  touch(key: string, ttl: number, fields?: Readonly<Record<string, string>>) {
    this.#note('touch', key)
    return this.inner.touch(key, ttl, fields)
  }
  destroy(key: string, index?: string) {
    this.#note('destroy', key, index)
    return this.inner.destroy(key, index)
  }
  members(index: string) {
    this.#note('members', index)
    return this.inner.members(index)
  }
  destroyIndex(index: string, keep?: readonly string[]) {
    this.#note('destroyIndex', index)
    return this.inner.destroyIndex(index, keep)
  }
}

// ------------------------------------------------------------------------------------ cookie → key

/** SHA-256 in base64url, as the store keys use it. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

/** The signed payload of a cookie value made by `sign()`: `payload.keyId.mac`. */
function payloadOf(value: string): string {
  const dot = value.indexOf('.')
  assert.ok(dot > 0, `not a signed cookie value: ${value}`)
  return value.slice(0, dot)
}

/** The session id and hash tag a session cookie value carries (`id~tag`, signed). */
export function sessionParts(value: string): { id: string; tag: string } {
  const parts = payloadOf(value).split('~')
  assert.equal(parts.length, 2, `a session cookie carries id~tag, got ${value}`)
  return { id: parts[0] as string, tag: parts[1] as string }
}

/** The store key of a session cookie: `lm:{tag}:s:<sha256(id)>`. */
export function sessionKeyOf(value: string): string {
  const { id, tag } = sessionParts(value)
  return `lm:{${tag}}:s:${sha256(id)}`
}

/** The tag, selector and validator a remember cookie value carries (`tag~selector~validator`). */
export function rememberParts(value: string): { tag: string; selector: string; validator: string } {
  const parts = payloadOf(value).split('~')
  assert.equal(parts.length, 3, `a remember cookie carries tag~selector~validator, got ${value}`)
  return {
    tag: parts[0] as string,
    selector: parts[1] as string,
    validator: parts[2] as string,
  }
}

/** The store key of a remember token: `lm:{tag}:r:<selector>`. */
export function rememberKeyOf(value: string): string {
  const { tag, selector } = rememberParts(value)
  return `lm:{${tag}}:r:${selector}`
}

// ------------------------------------------------------------------------------------ processes

/** A port nobody listens on right now: bind port 0, read it, release it. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  assert.ok(address !== null && typeof address === 'object')
  return address.port
}

/**
 * A private `redis-server` without persistence, on its own port, that a test may kill, pause
 * (SIGSTOP: a slow Redis) and start again on the same port. Never the shared one.
 */
export class PrivateRedis {
  readonly port: number
  #child: ChildProcess | undefined
  #output = ''

  constructor(port: number) {
    this.port = port
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    const c = this.#child
    return c !== undefined && c.exitCode === null && c.signalCode === null
  }

  /** Starts the server and waits until it answers PING. */
  async start(): Promise<void> {
    assert.ok(!this.running, 'the private redis-server is already running')
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.#child = child
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#output = (this.#output + chunk).slice(-4000)
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#output = (this.#output + chunk).slice(-4000)
    })
    const deadline = Date.now() + 10_000
    for (;;) {
      if (!this.running) assert.fail(`redis-server exited at start:\n${this.#output}`)
      if ((await probeRedis(this.url)) === null) return
      if (Date.now() > deadline) assert.fail(`redis-server did not answer:\n${this.#output}`)
      await sleep(50)
    }
  }

  /** Kills the server (SIGKILL) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child
    if (child === undefined || !this.running) return
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await gone
  }

  /** SIGSTOP: the server keeps its connections but answers nothing (a slow Redis). */
  pause(): void {
    this.#child?.kill('SIGSTOP')
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.#child?.kill('SIGCONT')
  }
}

// ------------------------------------------------------------------------------------ utilities

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A clock tests move by hand (milliseconds). */
export function mutableClock(start = Date.now()) {
  let time = start
  return {
    now: () => time,
    advance(seconds: number) {
      time += seconds * 1000
    },
  }
}

/** Polls `check` until it returns true or `ms` pass; returns whether it did. */
export async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return true
    if (Date.now() > deadline) return false
    await sleep(100)
  }
}
