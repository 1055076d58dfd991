import { LoginManagerError } from '../shared/errors.ts'

/**
 * The part of an `ioredis` client (`Redis`, including one connected through `sentinels`, or
 * `Cluster`) that {@link RedisStore} uses: `call`. A `Cluster` is recognised by its
 * `isCluster: true`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * const client: IoredisLikeClient = new Redis(process.env.REDIS_URL!)
 * ```
 */
export interface IoredisLikeClient {
  call(command: string, ...args: string[]): Promise<unknown>
  /** `true` on an ioredis `Cluster`, `false` on a `Redis`. */
  readonly isCluster?: boolean | undefined
}

/**
 * The part of a `redis` (node-redis v4 and later) client that {@link RedisStore} uses:
 * `sendCommand(args)`.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * const client: NodeRedisLikeClient = await createClient({ url: process.env.REDIS_URL }).connect()
 * ```
 */
export interface NodeRedisLikeClient {
  sendCommand(args: string[]): Promise<unknown>
}

/**
 * The part of a node-redis cluster (`createCluster`) that {@link RedisStore} uses; it is told
 * apart from a single-server client by its `getSlotMaster` method.
 *
 * @example
 * ```ts
 * import { createCluster } from 'redis'
 * const client: NodeRedisClusterLikeClient = await createCluster({ rootNodes }).connect()
 * ```
 */
export interface NodeRedisClusterLikeClient {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>
  getSlotMaster(slot: number): unknown
}

/**
 * The part of a node-redis Sentinel client (`createSentinel`, node-redis 5 and later) that
 * {@link RedisStore} uses; it is told apart from a single-server client by its `getMasterNode`
 * method. Every command goes to the primary.
 *
 * @example
 * ```ts
 * import { createSentinel } from 'redis'
 * const client: NodeRedisSentinelLikeClient = await createSentinel({ name, sentinelRootNodes }).connect()
 * ```
 */
export interface NodeRedisSentinelLikeClient {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  getMasterNode(): unknown
}

/**
 * Any client {@link RedisStore} accepts, recognised by its shape (neither package is imported):
 * an object with `call` is used as ioredis, one with `sendCommand` as node-redis.
 *
 * @example
 * ```ts
 * const store = new RedisStore({ client: redisClientOfYourChoice satisfies RedisClientLike })
 * ```
 */
export type RedisClientLike =
  | IoredisLikeClient
  | NodeRedisLikeClient
  | NodeRedisClusterLikeClient
  | NodeRedisSentinelLikeClient

/** Sends one command; `firstKey` routes it on a cluster. */
export type Send = (firstKey: string | undefined, args: string[]) => Promise<unknown>

/**
 * How to drive a client, and whether it is a Redis Cluster client. Every command is sent as
 * a write (node-redis's `isReadonly: false`), so that it goes to a primary even when the client
 * may read from replicas.
 */
export function adapt(client: unknown, owner = 'RedisStore'): { send: Send; isCluster: boolean } {
  if (client !== null && (typeof client === 'object' || typeof client === 'function')) {
    const c = client as Record<string, unknown>
    // Every function has a `call`: only a client's own counts (not that of a command method).
    if (typeof c.call === 'function' && c.call !== Function.prototype.call) {
      const call = c.call as (...args: string[]) => Promise<unknown>
      return {
        send: async (_firstKey, args) => call.apply(client, args),
        isCluster: c.isCluster === true,
      }
    }
    if (typeof c.sendCommand === 'function') {
      if (typeof c.getSlotMaster === 'function') {
        const send = c.sendCommand as NodeRedisClusterLikeClient['sendCommand']
        return {
          send: async (firstKey, args) => send.call(client, firstKey, false, args),
          isCluster: true,
        }
      }
      if (typeof c.getMasterNode === 'function') {
        const send = c.sendCommand as NodeRedisSentinelLikeClient['sendCommand']
        return { send: async (_firstKey, args) => send.call(client, false, args), isCluster: false }
      }
      const send = c.sendCommand as NodeRedisLikeClient['sendCommand']
      return { send: async (_firstKey, args) => send.call(client, args), isCluster: false }
    }
  }
  throw new LoginManagerError(
    'ERR_INVALID_OPTION',
    `${owner} client must be an ioredis client (with \`call\`) or a node-redis client (with \`sendCommand\`)`,
  )
}

/** The Redis Cluster hash tag of a key: the text between its first `{` and the next `}`. */
function hashTag(key: string): string | null {
  const open = key.indexOf('{')
  if (open === -1) return null
  const close = key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : null
}

/** Whether two keys surely share a hash slot (same key, or the same non-empty hash tag). */
export function sameSlot(a: string, b: string): boolean {
  if (a === b) return true
  const tag = hashTag(a)
  return tag !== null && tag === hashTag(b)
}
