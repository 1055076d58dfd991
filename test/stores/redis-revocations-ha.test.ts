/**
 * `RedisRevocationStore` (the revocation list of cookie sessions) on a real Redis Cluster
 * (three primaries, three replicas) and behind a real Sentinel set (a primary, a replica, three
 * sentinels), each started for this file on free ports (`redis-topologies.ts`) and killed at
 * the end. With ioredis and node-redis clients, in both directions: a revocation written through
 * one connection is pushed to a subscriber of the other library and read back by a full and an
 * incremental load; then the primary holding the list is killed and, once a replica took over,
 * revocations are written, pushed and loaded again without anything being restarted, and what
 * was written before the failover is still there (it had reached the replica).
 *
 * Without redis-server or redis-cli the file is skipped with a printed reason, except on CI
 * (`CI=true`), where that is a failure.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Cluster, Redis } from 'ioredis'
import type { RevocationEntry } from 'login-manager'
import {
  type RedisClientLike,
  RedisRevocationStore,
  type RedisSubscriberLike,
} from 'login-manager/redis'
import { createCluster, createSentinel } from 'redis'
import { probeTopologyTools, RedisCluster, RedisSentinelSet } from './redis-topologies.ts'
import { eventually, ON_CI, sleep } from './support.ts'

const missing = probeTopologyTools()
if (missing !== null && !ON_CI) console.log(`# skipping the HA revocation tests: ${missing}`)
const skip = missing !== null && !ON_CI ? missing : false

type Kind = 'ioredis' | 'node-redis'
interface Connections {
  readonly client: RedisClientLike
  readonly subscriber: RedisSubscriberLike
}

const now = () => Math.floor(Date.now() / 1000)
let ids = 0
/** A well-formed revocation id (16 bytes, base64url), new on each call. */
const freshId = () => `${String(++ids).padStart(21, 'r')}A`

/** Waits for `gap()` (subscribed) and collects what the subscription hears. */
function listen(store: RedisRevocationStore) {
  const heard: RevocationEntry[] = []
  const state = { gaps: 0, heard }
  const stop = store.subscribe({
    entries: (entries) => heard.push(...entries),
    gap: () => state.gaps++,
    error: () => {},
  })
  return { state, stop }
}

/** Writes `id`, retrying while the topology is failing over (bounded). */
async function addEventually(store: RedisRevocationStore, id: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      await store.add([{ id, expiresAt: now() + 600 }])
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(200)
    }
  }
}

/**
 * The scenarios, for one topology: `open(kind)` opens a command and a subscriber connection of
 * that library; `failover()` kills the primary that holds the list and waits for its successor.
 */
function scenarios(
  topology: string,
  open: (kind: Kind) => Promise<Connections>,
  failover: (prefix: string) => Promise<void>,
) {
  const run = `lmrevha-${randomUUID().slice(0, 8)}:`
  for (const [writerKind, readerKind] of [
    ['ioredis', 'node-redis'],
    ['node-redis', 'ioredis'],
  ] as const) {
    it(`${topology}: a revocation through ${writerKind} is pushed to and loaded by ${readerKind}`, async () => {
      const prefix = `${run}${writerKind}:`
      const writer = new RedisRevocationStore({ ...(await open(writerKind)), prefix })
      const reader = new RedisRevocationStore({ ...(await open(readerKind)), prefix })
      const { state, stop } = listen(reader)
      assert.ok(await eventually(async () => state.gaps > 0, 10_000), 'subscribed')
      const first = await reader.load()
      const id = freshId()
      await writer.add([{ id, expiresAt: now() + 600 }])
      assert.ok(
        await eventually(async () => state.heard.some((e) => e.id === id), 2_000),
        'pushed within two seconds',
      )
      assert.ok(
        (await reader.load()).entries.some((e) => e.id === id),
        'a full load has it',
      )
      await sleep(2_100) // past the margin an incremental load reads back
      assert.ok(
        (await reader.load(first.cursor)).entries.some((e) => e.id === id),
        'an incremental load has it',
      )
      await stop()
    })
  }

  it(`${topology}: after the primary holding the list is killed, revocations are written, pushed and loaded again`, async () => {
    const prefix = `${run}failover:`
    const writer = new RedisRevocationStore({ ...(await open('ioredis')), prefix })
    const nodeReader = new RedisRevocationStore({ ...(await open('node-redis')), prefix })
    const ioReader = new RedisRevocationStore({ ...(await open('ioredis')), prefix })
    const listeners = [listen(nodeReader), listen(ioReader)]
    for (const { state } of listeners) {
      assert.ok(await eventually(async () => state.gaps > 0, 10_000), 'subscribed')
    }
    const before = freshId()
    await writer.add([{ id: before, expiresAt: now() + 600 }])
    await failover(prefix)
    const afterwards = freshId()
    await addEventually(writer, afterwards)
    for (const [name, reader] of [
      ['node-redis', nodeReader],
      ['ioredis', ioReader],
    ] as const) {
      const loaded = await eventually(async () => {
        try {
          const entries = (await reader.load()).entries.map((e) => e.id)
          return entries.includes(before) && entries.includes(afterwards)
        } catch {
          return false
        }
      }, 30_000)
      assert.ok(loaded, `${name}: a load after the failover has both revocations`)
    }
    // Pushes work again on both subscribers, on their own (they re-subscribed after the failover).
    // A client may learn of the new primary well after its command connection did: under a full
    // test run one took over 30 seconds once.
    const pushed = freshId()
    const pushDeadline = Date.now() + 60_000
    const deaf = () =>
      ['node-redis', 'ioredis'].filter(
        (_, i) => !listeners[i]?.state.heard.some((e) => e.id === pushed),
      )
    while (deaf().length > 0) {
      assert.ok(
        Date.now() < pushDeadline,
        `both subscribers hear pushes after the failover; not heard by ${deaf().join(' and ')}`,
      )
      await addEventually(writer, pushed)
      await sleep(500)
    }
    for (const { stop } of listeners) await stop()
  })
}

/**
 * Starts a topology before a suite's tests; after them, closes every connection opened on it
 * (each given two seconds: a client may wait for a node killed by a failover) and stops it.
 */
function topologyForSuite<T extends { stop(): Promise<void> }>(start: () => Promise<T>) {
  let topology: T | undefined
  const closers: (() => unknown)[] = []
  before(async () => {
    topology = await start()
  })
  after(async () => {
    for (const close of closers.splice(0).reverse()) {
      await Promise.race([
        Promise.resolve()
          .then(close)
          .catch(() => {}),
        sleep(2_000),
      ])
    }
    await topology?.stop()
  })
  return {
    get(): T {
      assert.ok(topology !== undefined, 'the topology is started')
      return topology
    },
    onClose(...close: (() => unknown)[]): void {
      closers.push(...close)
    },
  }
}

describe('RedisRevocationStore on a real Redis Cluster (3 primaries, 3 replicas)', { skip }, () => {
  if (missing !== null) {
    it('needs redis-server and redis-cli on CI', () => assert.fail(missing))
    return
  }
  const suite = topologyForSuite(() => RedisCluster.start())
  const cluster = () => suite.get()

  const open = async (kind: Kind): Promise<Connections> => {
    if (kind === 'ioredis') {
      const client = new Cluster(cluster().seeds, { redisOptions: { connectTimeout: 1_000 } })
      const subscriber = client.duplicate()
      for (const c of [client, subscriber]) {
        c.on('error', () => {})
        suite.onClose(() => c.disconnect())
      }
      return { client, subscriber }
    }
    const client = createCluster({
      rootNodes: cluster().seeds.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
    })
    client.on('error', () => {})
    await client.connect()
    const subscriber = client.duplicate()
    subscriber.on('error', () => {})
    await subscriber.connect()
    suite.onClose(
      () => client.destroy(),
      () => subscriber.destroy(),
    )
    return { client, subscriber }
  }

  scenarios('Cluster', open, async (prefix) => {
    const slot = await cluster().keySlot(`${prefix}lm:{revocations}:ids`)
    const primary = await cluster().primaryOf(slot)
    await cluster().replicated(primary.port)
    await cluster().server(primary.port).kill()
    await cluster().waitHealthy(30_000)
  })
})

describe('RedisRevocationStore behind a real Sentinel set', { skip }, () => {
  if (missing !== null) {
    it('needs redis-server and redis-cli on CI', () => assert.fail(missing))
    return
  }
  const suite = topologyForSuite(() => RedisSentinelSet.start())
  const set = () => suite.get()

  const open = async (kind: Kind): Promise<Connections> => {
    if (kind === 'ioredis') {
      const make = () => {
        const c = new Redis({
          sentinels: set().sentinelAddresses,
          name: set().name,
          failoverDetector: true,
          reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
        })
        c.on('error', () => {})
        suite.onClose(() => c.disconnect())
        return c
      }
      return { client: make(), subscriber: make() }
    }
    const make = async () => {
      const c = createSentinel({ name: set().name, sentinelRootNodes: set().sentinelAddresses })
      c.on('error', () => {})
      await c.connect()
      suite.onClose(() => c.destroy())
      return c
    }
    return { client: await make(), subscriber: await make() }
  }

  scenarios('Sentinel', open, async () => {
    const primary = await set().primaryPort()
    await set().replicated(primary)
    await set().server(primary).kill()
    await set().waitNewPrimary(primary)
  })
})
