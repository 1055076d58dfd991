/**
 * Shared helpers of the MySqlStore tests: the MariaDB/MySQL probe (skip locally, fail on CI),
 * table prefixes unique to a run, table clean-up, and a TCP proxy in front of the real server
 * that can refuse, cut or stall connections (the machine's server itself is never touched).
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import mysql from 'mysql2/promise'
import { freePort } from './support.ts'

/** The shared server of the test run. */
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** Why the server at `url` cannot be used, or null when it answers. */
export async function probeMysql(url = MYSQL_URL): Promise<string | null> {
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 2_000 })
    try {
      await connection.query('SELECT 1')
      return null
    } finally {
      await connection.end().catch(() => {})
    }
  } catch (error) {
    return `MySQL/MariaDB at ${url} is unreachable (${error instanceof Error ? error.message : String(error)})`
  }
}

/** A table prefix no other run or test uses: `lm_<label>_<8 hex>_`. */
export function uniquePrefix(label: string): string {
  return `lm_${label}_${randomUUID().slice(0, 8)}_`
}

/** A pool on the shared server (or `url`), for a test's own bookkeeping or stores. */
export function testPool(url = MYSQL_URL, options: mysql.PoolOptions = {}): mysql.Pool {
  return mysql.createPool({ uri: url, connectionLimit: 5, ...options })
}

/** Drops the tables of a store (`{ records, index }`), if they exist. */
export async function dropTables(
  pool: mysql.Pool,
  tables: { readonly records: string; readonly index: string },
): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS \`${tables.records}\`, \`${tables.index}\``)
}

/** Every table of the current database whose name starts with `prefix`. */
export async function tablesWithPrefix(pool: mysql.Pool, prefix: string): Promise<string[]> {
  const [rows] = await pool.query(
    'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE ?',
    [`${prefix.replace(/_/g, '\\_')}%`],
  )
  return (rows as { name: string }[]).map((row) => row.name)
}

/** `url` with its host and port replaced. */
export function withPort(url: string, port: number): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(port)
  return parsed.toString()
}

/**
 * A TCP proxy on a port of its own in front of the real server. It can stop listening (new
 * connections are refused), cut every open connection (a lost connection: the pool's sockets
 * die under it), and stall (bytes in both directions are held back until `resume()`: a server
 * that accepts but does not answer).
 */
export class TcpProxy {
  readonly port: number
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  readonly #clients = new Set<Socket>()
  readonly #held: (() => void)[] = []
  #server: Server | undefined
  #stalled = false

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port
    this.#target = target
  }

  /** A proxy to the server of `url` (default the shared one), listening unless `listening: false`. */
  static async start(url = MYSQL_URL, listening = true): Promise<TcpProxy> {
    const parsed = new URL(url)
    const proxy = new TcpProxy(await freePort(), {
      host: parsed.hostname || '127.0.0.1',
      port: Number(parsed.port || 3306),
    })
    if (listening) await proxy.up()
    return proxy
  }

  /** The server's URL through the proxy. */
  url(base = MYSQL_URL): string {
    return withPort(base, this.port)
  }

  /** How many client connections are open through the proxy. */
  get connections(): number {
    return this.#clients.size
  }

  /** Starts (again) to accept connections on its port. */
  async up(): Promise<void> {
    if (this.#server !== undefined) return
    const server = createServer((client) => this.#pipe(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.#server = server
  }

  /** Stops accepting (connecting is refused) and cuts every open connection. */
  async down(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    this.cut()
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Closes every open connection at once (both sides see a reset), still accepting new ones. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    this.#clients.clear()
  }

  /** Holds back every byte, both ways, until {@link resume}; connections stay open. */
  stall(): void {
    this.#stalled = true
  }

  /** Delivers what was held back, and lets bytes through again. */
  resume(): void {
    this.#stalled = false
    for (const flush of this.#held.splice(0)) flush()
  }

  async close(): Promise<void> {
    this.resume()
    await this.down()
  }

  #pipe(client: Socket): void {
    const upstream = tcpConnect(this.#target.port, this.#target.host)
    this.#clients.add(client)
    client.on('close', () => this.#clients.delete(client))
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        this.#sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (this.#stalled) this.#held.push(() => to.write(chunk))
        else to.write(chunk)
      })
    }
    forward(client, upstream)
    forward(upstream, client)
  }
}
