/**
 * Shared helpers of the PostgreSQL tests: the probe (skip locally, fail on CI), a schema of its
 * own per run (created with the store's `createSchema()`, dropped afterwards), a pool wrapper
 * that counts statements and round trips or injects errors, and a TCP proxy that can refuse,
 * stall and drop connections between a store and the real server (the machine's shared
 * PostgreSQL is never stopped).
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import pg from 'pg'
import type {
  PostgresPoolLike,
  PostgresQuery,
  PostgresResult,
} from '../../src/stores/postgres/index.ts'

/** The shared PostgreSQL of the test run. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Why PostgreSQL at `url` cannot be used, or null when it answers. */
export async function probePostgres(url = DATABASE_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (error) {
    return `PostgreSQL at ${url} is unreachable (${error instanceof Error ? error.message : String(error)})`
  } finally {
    await client.end().catch(() => {})
  }
}

/** A pool on the shared server whose `error` events are logged, not fatal. */
export function testPool(url = DATABASE_URL, config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, ...config })
  pool.on('error', (error) => console.error(`# pg pool: ${error.message}`))
  return pool
}

/** A fresh schema name for one run (`lmtest_<hex>`). */
export function schemaName(label = 'run'): string {
  return `lmtest_${label}_${randomUUID().slice(0, 8)}`
}

/** Drops a schema made by a test, with everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}

/** `pg.Pool` as the store's pool type (its `query` overloads include the one the store calls). */
export const asPool = (pool: pg.Pool): PostgresPoolLike => pool as unknown as PostgresPoolLike

/**
 * Wraps a pool, counting the statements the store sends (each is one round trip: the store
 * sends one statement per operation) and recording the SQLSTATE of each failure; `inject` makes
 * the next statements fail with an error of that code, without reaching the server.
 */
export class CountingPool implements PostgresPoolLike {
  readonly inner: PostgresPoolLike
  statements = 0
  readonly texts: string[] = []
  readonly failures: string[] = []
  #inject: { code: string; times: number } | undefined

  constructor(inner: PostgresPoolLike) {
    this.inner = inner
  }

  /** The next `times` statements fail with SQLSTATE `code` (as PostgreSQL would answer). */
  inject(code: string, times = Number.POSITIVE_INFINITY): void {
    this.#inject = { code, times }
  }

  reset(): void {
    this.statements = 0
    this.texts.length = 0
    this.failures.length = 0
    this.#inject = undefined
  }

  async query(config: PostgresQuery): Promise<PostgresResult> {
    this.statements++
    this.texts.push(config.text)
    const injected = this.#inject
    if (injected !== undefined && injected.times > 0) {
      injected.times--
      const error = Object.assign(new Error(`injected failure ${injected.code}`), {
        code: injected.code,
      })
      this.failures.push(injected.code)
      throw error
    }
    try {
      return await this.inner.query(config)
    } catch (error) {
      this.failures.push(String((error as { code?: unknown }).code ?? 'none'))
      throw error
    }
  }

  on(event: 'error', listener: (error: Error) => void): unknown {
    return this.inner.on?.(event, listener)
  }
}

/**
 * A TCP proxy on a free port in front of the real server: `pass` forwards, `stall` keeps the
 * connections but forwards nothing (a server that answers nothing), `refuse` closes every new
 * connection at once (a server that is down), and `drop()` cuts every open connection.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #mode: 'pass' | 'stall' | 'refuse' = 'pass'
  port = 0

  constructor(targetUrl = DATABASE_URL) {
    const url = new URL(targetUrl)
    this.#target = { host: url.hostname, port: Number(url.port || 5432) }
    this.#server = createServer((client) => this.#accept(client))
  }

  /** The database URL through the proxy. */
  url(base = DATABASE_URL): string {
    const url = new URL(base)
    url.hostname = '127.0.0.1'
    url.port = String(this.port)
    return url.toString()
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = this.#server.address()
    if (address === null || typeof address === 'string') throw new Error('no proxy port')
    this.port = address.port
  }

  set mode(mode: 'pass' | 'stall' | 'refuse') {
    this.#mode = mode
  }

  get mode(): 'pass' | 'stall' | 'refuse' {
    return this.#mode
  }

  /** Cuts every connection open now (the pool's idle ones included). */
  drop(): void {
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
  }

  /** How many connections are open through the proxy (both ends count once). */
  get connections(): number {
    return this.#sockets.size / 2
  }

  async close(): Promise<void> {
    this.drop()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: Socket): void {
    if (this.#mode === 'refuse') {
      client.destroy()
      return
    }
    const upstream = tcpConnect(this.#target.port, this.#target.host)
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        this.#sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    // Data is forwarded only in `pass` mode; in `stall` it is held back (and dropped).
    client.on('data', (chunk) => {
      if (this.#mode === 'pass') upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (this.#mode === 'pass') client.write(chunk)
    })
  }
}
