/**
 * Real Redis topologies for the store tests: a Redis Cluster of three primaries with one replica
 * each, and a Sentinel set (one primary, one replica, three sentinels). Every server is a
 * `redis-server` of its own, without persistence, on free ports (never 6379, never fixed ones),
 * in a temporary directory, so that parallel runs and CI never collide and the machine's shared
 * Redis is never touched. `stop()` kills them all and removes the directory.
 *
 * Each server runs under a small `sh` guard in a process group of its own: the test kills the
 * group (SIGKILL, a crash as far as Redis knows), and if the test process itself dies without
 * stopping it (a crash, a kill), the guard sees its stdin close and kills the server, so no
 * server outlives the test run.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { freePort, sleep } from './support.ts'

const run = promisify(execFile)

/** Why a topology cannot be started here (no redis-server or redis-cli), or null. */
export function probeTopologyTools(): string | null {
  for (const tool of ['redis-server', 'redis-cli']) {
    const result = spawnSync(tool, ['--version'], { encoding: 'utf8' })
    if (result.error !== undefined) return `${tool} cannot be run (${result.error.message})`
    if (result.status !== 0) return `${tool} --version exited with ${result.status}`
  }
  return null
}

// The guard: redis-server in the background, a watcher that kills it (and removes the
// topology's directory) when the test process's end of stdin closes, and the server's exit
// status as the guard's own.
const GUARD = `
exec 3<&0
redis-server "$@" </dev/null &
child=$!
( read -r _ <&3; kill -9 "$child" 2>/dev/null; rm -rf "$LM_TOPOLOGY_DIR" ) &
watcher=$!
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit $status
`

/** Process groups still running and directories still there, for an early exit. */
const groups = new Set<number>()
const directories = new Set<string>()
process.once('exit', () => {
  for (const group of groups) killGroup(group)
  for (const dir of directories) rmSync(dir, { recursive: true, force: true })
})

/** A temporary directory for one topology, removed by its `stop()` or at exit. */
async function topologyDirectory(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `lm-${name}-`))
  directories.add(dir)
  return dir
}

async function removeDirectory(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  directories.delete(dir)
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGCONT')
    process.kill(-group, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

/** One command on a fresh connection to `port` (admin work: no retries, no offline queue). */
export function command(port: number, ...args: (string | number)[]): Promise<unknown> {
  return withClient(port, (client) => client.call(String(args[0]), ...args.slice(1).map(String)))
}

/** Runs `work` with a client connected to `port` (admin work, as {@link command}). */
export async function withClient<T>(port: number, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 5_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return await work(client)
  } finally {
    client.disconnect()
  }
}

/** Every key under `prefix` on the server at `port` (SCAN). */
export async function keysOn(port: number, prefix: string): Promise<string[]> {
  return withClient(port, async (client) => {
    const keys = new Set<string>()
    let cursor = '0'
    do {
      const [next, batch] = await client.scan(
        cursor,
        'MATCH',
        `${globEscape(prefix)}*`,
        'COUNT',
        1000,
      )
      cursor = next
      for (const key of batch) keys.add(key)
    } while (cursor !== '0')
    return [...keys]
  })
}

/** Deletes every key under `prefix` on the server at `port`, one key a command (any slot); returns how many. */
export async function deleteOn(port: number, prefix: string): Promise<number> {
  const keys = await keysOn(port, prefix)
  if (keys.length === 0) return 0
  return withClient(port, async (client) => {
    const replies = await Promise.all(keys.map((key) => client.del(key)))
    return replies.reduce((a, b) => a + b, 0)
  })
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

/** `INFO <section>` of the server on `port` as a map. */
export async function info(port: number, section: string): Promise<Map<string, string>> {
  const text = String(await command(port, 'INFO', section))
  const fields = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

/** How many NOSCRIPT errors the server on `port` answered since it started or since `CONFIG RESETSTAT`. */
export async function noscriptAnswers(port: number): Promise<number> {
  const errors = await info(port, 'errorstats')
  return Number(/count=(\d+)/.exec(errors.get('errorstat_NOSCRIPT') ?? '')?.[1] ?? 0)
}

/** Polls `check` every 50 ms until it holds; fails with `what` (and the last error) after `ms`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      if (await check()) return
      last = undefined
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : ''
      assert.fail(`${what}: not within ${ms} ms${why}`)
    }
    await sleep(50)
  }
}

/** A `redis-server` (or sentinel) on its own port, in its own process group, that can be killed and restarted. */
export class RedisServer {
  readonly port: number
  readonly #args: readonly string[]
  #child: ChildProcess | undefined
  #output = ''

  readonly #dir: string

  /** `dir`: the topology's directory, which the guard removes if the test process dies. */
  constructor(port: number, args: readonly string[], dir: string) {
    this.port = port
    this.#args = args
    this.#dir = dir
  }

  get running(): boolean {
    const c = this.#child
    return c !== undefined && c.exitCode === null && c.signalCode === null
  }

  /** The last lines the server printed (for failure messages). */
  get output(): string {
    return this.#output
  }

  /** Starts the server and waits until it answers PING; rejects with its output if it exits. */
  async start(): Promise<void> {
    assert.ok(!this.running, `the server on port ${this.port} is already running`)
    const child = spawn('sh', ['-c', GUARD, 'redis-guard', ...this.#args], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LM_TOPOLOGY_DIR: this.#dir },
    })
    this.#child = child
    const group = child.pid
    if (group !== undefined) groups.add(group)
    child.once('exit', () => {
      if (group !== undefined) groups.delete(group)
    })
    // Neither the guard's pipes nor the guard itself keep the test process alive.
    child.unref()
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        this.#output = (this.#output + chunk).slice(-6000)
      })
      ;(stream as unknown as { unref?: () => void } | null)?.unref?.()
    }
    ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    const deadline = Date.now() + 10_000
    for (;;) {
      if (!this.running) {
        throw new Error(`redis-server on port ${this.port} exited at start:\n${this.#output}`)
      }
      if (
        await command(this.port, 'PING').then(
          (reply) => reply === 'PONG',
          () => false,
        )
      ) {
        return
      }
      if (Date.now() > deadline) {
        throw new Error(`redis-server on port ${this.port} did not answer:\n${this.#output}`)
      }
      await sleep(25)
    }
  }

  /** SIGSTOP: the server keeps its connections and answers nothing until {@link resume}. */
  pause(): void {
    const pid = this.#child?.pid
    if (pid !== undefined && this.running) process.kill(-pid, 'SIGSTOP')
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    const pid = this.#child?.pid
    if (pid !== undefined && this.running) process.kill(-pid, 'SIGCONT')
  }

  /** SIGKILL to the whole process group (a crash); resolves once it has exited. */
  async kill(): Promise<void> {
    const child = this.#child
    if (child === undefined || !this.running || child.pid === undefined) return
    // Held by the test process until it has exited (the guard is unref'd while it runs).
    child.ref()
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    killGroup(child.pid)
    await gone
  }
}

/**
 * Starts a server on `count` fresh free ports (its port, then any other it needs), trying other
 * ports when one was taken in the meantime, and adds it to `into` once it runs.
 */
async function startOnFreePorts(
  make: (ports: number[]) => Promise<RedisServer>,
  count: number,
  into: RedisServer[],
): Promise<RedisServer> {
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = await make(await distinctFreePorts(count))
    try {
      await server.start()
      into.push(server)
      return server
    } catch (err) {
      await server.kill()
      lastError = err
      if (!/Address already in use/i.test(String(err))) throw err
    }
  }
  throw lastError
}

const reserved = new Set<number>()

/** `count` free ports, none handed out before in this process. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports: number[] = []
  while (ports.length < count) {
    const port = await freePort()
    if (reserved.has(port)) continue
    reserved.add(port)
    ports.push(port)
  }
  return ports
}

// Shared by every server: no persistence, loopback only, and a replica sync that starts at
// once (Redis 7 waits 5 s by default before a diskless full sync).
const COMMON = [
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--repl-diskless-sync-delay',
  '0',
  '--loglevel',
  'warning',
] as const

// ---------------------------------------------------------------------------------------- cluster

/** A node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  readonly id: string
  readonly port: number
  readonly primary: boolean
  /** The id of its primary, for a replica. */
  readonly primaryId: string | undefined
  readonly failed: boolean
  /** Slot ranges, inclusive, for a primary. */
  readonly slots: readonly (readonly [number, number])[]
}

function parseClusterNodes(text: string): ClusterNodeInfo[] {
  const nodes: ClusterNodeInfo[] = []
  for (const line of text.trim().split('\n')) {
    const [id, address, flags, primaryId, , , , , ...slots] = line.trim().split(' ')
    if (id === undefined || address === undefined || flags === undefined) continue
    const port = Number(/:(\d+)@/.exec(address)?.[1])
    const flagList = flags.split(',')
    nodes.push({
      id,
      port,
      primary: flagList.includes('master'),
      primaryId: primaryId === '-' ? undefined : primaryId,
      failed: flagList.includes('fail') || flagList.includes('fail?'),
      slots: slots
        .filter((range) => !range.startsWith('['))
        .map((range) => {
          const [from, to] = range.split('-').map(Number) as [number, number | undefined]
          return [from, to ?? from] as const
        }),
    })
  }
  return nodes
}

/** Options of {@link RedisCluster.start}. */
export interface ClusterOptions {
  /** Milliseconds without an answer before a node counts as failing (cluster-node-timeout). */
  readonly nodeTimeout?: number
}

/**
 * A Redis Cluster of three primaries and three replicas (`redis-cli --cluster create
 * --cluster-replicas 1`), each node on a free port and a free cluster bus port.
 */
export class RedisCluster {
  readonly servers: RedisServer[]
  readonly #dir: string

  private constructor(servers: RedisServer[], dir: string) {
    this.servers = servers
    this.#dir = dir
  }

  /** Starts six nodes, creates the cluster, and waits until every slot is served and every replica in sync. */
  static async start(options: ClusterOptions = {}): Promise<RedisCluster> {
    const dir = await topologyDirectory('cluster')
    const servers: RedisServer[] = []
    const cluster = new RedisCluster(servers, dir)
    try {
      const nodeTimeout = String(options.nodeTimeout ?? 1_000)
      const started = await settled(
        Array.from({ length: 6 }, () =>
          startOnFreePorts(
            async ([port, bus]) => {
              const args = [
                '--port',
                String(port),
                '--cluster-enabled',
                'yes',
                '--cluster-port',
                String(bus),
                '--cluster-config-file',
                join(dir, `nodes-${port}.conf`),
                '--cluster-node-timeout',
                nodeTimeout,
                '--dir',
                dir,
                ...COMMON,
              ]
              return new RedisServer(port as number, args, dir)
            },
            2,
            servers,
          ),
        ),
      )
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...started.map((server) => `127.0.0.1:${server.port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      )
      await cluster.waitHealthy()
      return cluster
    } catch (err) {
      await cluster.stop()
      throw err
    }
  }

  /** Where a cluster client starts: every node. */
  get seeds(): { host: string; port: number }[] {
    return this.servers.map((server) => ({ host: '127.0.0.1', port: server.port }))
  }

  /** The topology as seen by a running node. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    let lastError: unknown
    for (const server of this.servers) {
      if (!server.running) continue
      try {
        return parseClusterNodes(String(await command(server.port, 'CLUSTER', 'NODES')))
      } catch (err) {
        lastError = err
      }
    }
    throw lastError ?? new Error('no cluster node is running')
  }

  /** The primary that serves `slot` now. */
  async primaryOf(slot: number): Promise<ClusterNodeInfo> {
    const owner = (await this.nodes()).find(
      (node) =>
        node.primary && !node.failed && node.slots.some(([from, to]) => slot >= from && slot <= to),
    )
    assert.ok(owner !== undefined, `no primary serves slot ${slot}`)
    return owner
  }

  /** The hash slot of a key (`CLUSTER KEYSLOT`). */
  async keySlot(key: string): Promise<number> {
    const server = this.servers.find((s) => s.running)
    assert.ok(server !== undefined)
    return Number(await command(server.port, 'CLUSTER', 'KEYSLOT', key))
  }

  /** The hash slots of many keys, over one connection. */
  async keySlots(keys: readonly string[]): Promise<number[]> {
    const server = this.servers.find((s) => s.running)
    assert.ok(server !== undefined)
    return withClient(server.port, (client) =>
      Promise.all(keys.map(async (key) => Number(await client.call('CLUSTER', 'KEYSLOT', key)))),
    )
  }

  server(port: number): RedisServer {
    const found = this.servers.find((s) => s.port === port)
    assert.ok(found !== undefined, `no cluster node on port ${port}`)
    return found
  }

  /** Every key under `prefix`, by the port of the primary that holds it. */
  async keysByPrimary(prefix: string): Promise<Map<number, string[]>> {
    const found = new Map<number, string[]>()
    for (const node of await this.nodes()) {
      if (!node.primary || node.failed) continue
      found.set(node.port, await keysOn(node.port, prefix))
    }
    return found
  }

  /** Deletes every key under `prefix` on every primary; returns how many. */
  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0
    for (const node of await this.nodes()) {
      if (node.primary && !node.failed) deleted += await deleteOn(node.port, prefix)
    }
    return deleted
  }

  /**
   * Waits until every running node says `cluster_state:ok` with all 16384 slots served, three
   * primaries serve them, and every running replica's link to its primary is up.
   */
  async waitHealthy(ms = 20_000): Promise<void> {
    await until(
      'the cluster is healthy',
      async () => {
        for (const server of this.servers) {
          if (!server.running) continue
          const text = String(await command(server.port, 'CLUSTER', 'INFO'))
          if (!/cluster_state:ok/.test(text) || !/cluster_slots_ok:16384/.test(text)) return false
        }
        const nodes = await this.nodes()
        const primaries = nodes.filter((n) => n.primary && !n.failed && n.slots.length > 0)
        if (primaries.length !== 3) return false
        for (const node of nodes) {
          if (node.primary || node.failed) continue
          if (!this.servers.some((s) => s.port === node.port && s.running)) continue
          const replication = await info(node.port, 'replication')
          if (replication.get('master_link_status') !== 'up') return false
        }
        return true
      },
      ms,
    )
  }

  /**
   * Waits until the replica at `port` has received everything its primary had written when this
   * was called (its replication offset has caught up), so none of it can be lost in a failover.
   */
  async replicated(primaryPort: number): Promise<void> {
    const offset = Number((await info(primaryPort, 'replication')).get('master_repl_offset'))
    const nodes = await this.nodes()
    const primary = nodes.find((n) => n.port === primaryPort)
    assert.ok(primary !== undefined)
    const replicas = nodes.filter((n) => n.primaryId === primary.id && !n.failed)
    assert.ok(replicas.length > 0, `the primary on ${primaryPort} has no replica`)
    await until(`the replicas of ${primaryPort} reach offset ${offset}`, async () => {
      for (const replica of replicas) {
        const seen = Number((await info(replica.port, 'replication')).get('slave_repl_offset'))
        if (!(seen >= offset)) return false
      }
      return true
    })
  }

  /** Kills every node and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.kill()))
    await removeDirectory(this.#dir)
  }
}

// ---------------------------------------------------------------------------------------- sentinel

/** Options of {@link RedisSentinelSet.start}. */
export interface SentinelOptions {
  /** Milliseconds without an answer before a sentinel thinks the primary is down. */
  readonly downAfter?: number
  /** Milliseconds a failover may take (Sentinel's failover-timeout). */
  readonly failoverTimeout?: number
}

/** One primary, one replica and three sentinels (quorum 2) watching them under a random name. */
export class RedisSentinelSet {
  readonly name = `lm-${randomUUID().slice(0, 8)}`
  readonly data: RedisServer[]
  readonly sentinels: RedisServer[]
  readonly #dir: string

  private constructor(data: RedisServer[], sentinels: RedisServer[], dir: string) {
    this.data = data
    this.sentinels = sentinels
    this.#dir = dir
  }

  /** Starts the primary, then its replica, then the sentinels, and waits until they all agree. */
  static async start(options: SentinelOptions = {}): Promise<RedisSentinelSet> {
    const dir = await topologyDirectory('sentinel')
    const data: RedisServer[] = []
    const sentinels: RedisServer[] = []
    const set = new RedisSentinelSet(data, sentinels, dir)
    try {
      const dataServer = (args: string[]) => async (ports: number[]) => {
        const port = String(ports[0])
        const server = ['--port', port, '--dir', dir, ...COMMON, ...args]
        return new RedisServer(Number(port), server, dir)
      }
      const primary = await startOnFreePorts(dataServer([]), 1, data)
      const replica = await startOnFreePorts(
        dataServer(['--replicaof', '127.0.0.1', String(primary.port)]),
        1,
        data,
      )
      await until('the replica is in sync', async () => {
        return (await info(replica.port, 'replication')).get('master_link_status') === 'up'
      })
      const downAfter = options.downAfter ?? 1_000
      const failoverTimeout = options.failoverTimeout ?? 3_000
      await settled(
        [0, 1, 2].map(() =>
          startOnFreePorts(
            async ([port]) => {
              const conf = join(dir, `sentinel-${port}.conf`)
              await writeFile(
                conf,
                [
                  `port ${port}`,
                  'bind 127.0.0.1',
                  `dir "${dir}"`,
                  `sentinel monitor ${set.name} 127.0.0.1 ${primary.port} 2`,
                  `sentinel down-after-milliseconds ${set.name} ${downAfter}`,
                  `sentinel failover-timeout ${set.name} ${failoverTimeout}`,
                  `sentinel parallel-syncs ${set.name} 1`,
                  'loglevel warning',
                  '',
                ].join('\n'),
              )
              return new RedisServer(port as number, [conf, '--sentinel'], dir)
            },
            1,
            sentinels,
          ),
        ),
      )
      await set.waitHealthy()
      return set
    } catch (err) {
      await set.stop()
      throw err
    }
  }

  /** Where a Sentinel client starts: every sentinel. */
  get sentinelAddresses(): { host: string; port: number }[] {
    return this.sentinels.map((server) => ({ host: '127.0.0.1', port: server.port }))
  }

  /** The port of the primary, as the running sentinels report it (they must agree). */
  async primaryPort(): Promise<number> {
    const ports = new Set<number>()
    for (const sentinel of this.sentinels) {
      if (!sentinel.running) continue
      const reply = (await command(
        sentinel.port,
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        this.name,
      )) as [string, string]
      ports.add(Number(reply[1]))
    }
    assert.equal(ports.size, 1, `the sentinels disagree about the primary: ${[...ports]}`)
    return [...ports][0] as number
  }

  server(port: number): RedisServer {
    const found = this.data.find((s) => s.port === port)
    assert.ok(found !== undefined, `no data server on port ${port}`)
    return found
  }

  /**
   * Waits until every sentinel sees the same primary (which says it is one), one replica in sync
   * with it, and the two other sentinels: what a failover needs.
   */
  async waitHealthy(ms = 20_000): Promise<void> {
    await until(
      'the sentinels agree and see a replica',
      async () => {
        const port = await this.primaryPort()
        if ((await info(port, 'replication')).get('role') !== 'master') return false
        for (const sentinel of this.sentinels) {
          const fields = pairs(
            (await command(sentinel.port, 'SENTINEL', 'MASTER', this.name)) as string[],
          )
          if (fields.get('num-other-sentinels') !== '2') return false
          if (fields.get('flags') !== 'master') return false
          const replicas = (
            (await command(sentinel.port, 'SENTINEL', 'REPLICAS', this.name)) as string[][]
          ).map(pairs)
          const good = replicas.filter(
            (r) => r.get('flags') === 'slave' && r.get('master-link-status') === 'ok',
          )
          if (good.length < 1) return false
        }
        return true
      },
      ms,
    )
  }

  /** Waits until the replica has everything the primary on `primaryPort` had written. */
  async replicated(primaryPort: number): Promise<void> {
    const offset = Number((await info(primaryPort, 'replication')).get('master_repl_offset'))
    const replica = this.data.find((s) => s.port !== primaryPort && s.running)
    assert.ok(replica !== undefined, 'no running replica')
    await until(`the replica reaches offset ${offset}`, async () => {
      const seen = Number((await info(replica.port, 'replication')).get('slave_repl_offset'))
      return seen >= offset
    })
  }

  /** Waits until every running sentinel reports a primary other than `oldPort`, serving as one. */
  async waitNewPrimary(oldPort: number, ms = 30_000): Promise<number> {
    let found = 0
    await until(
      `a replica replaces the primary on ${oldPort}`,
      async () => {
        const port = await this.primaryPort()
        if (port === oldPort) return false
        if ((await info(port, 'replication')).get('role') !== 'master') return false
        found = port
        return true
      },
      ms,
    )
    return found
  }

  /** Kills every server and sentinel and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.data].map((server) => server.kill()))
    await removeDirectory(this.#dir)
  }
}

/** Like `Promise.all`, but waits for every promise before rejecting (so nothing is left starting). */
async function settled<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<T>).value)
}

/** A flat `[name, value, …]` reply as a map. */
function pairs(flat: string[]): Map<string, string> {
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i] as string, flat[i + 1] as string)
  return map
}
