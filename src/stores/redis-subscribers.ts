// The subscriber connections RedisRevocationStore accepts: ioredis and node-redis subscribe with
// different signatures, so the store tells them apart by shape.

/**
 * The part of an ioredis connection that {@link RedisRevocationStore} subscribes with. It must
 * be a connection of its own (`client.duplicate()`): a subscribed connection runs no other
 * commands. ioredis subscribes again by itself after a reconnection (`autoResubscribe`).
 */
export interface IoredisSubscriberLike {
  call(command: string, ...args: string[]): Promise<unknown>
  subscribe(...channels: string[]): Promise<unknown>
  unsubscribe(...channels: string[]): Promise<unknown>
  on(event: 'message', listener: (channel: string, message: string) => void): unknown
  on(event: 'ready', listener: () => void): unknown
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown
}

/**
 * The part of a node-redis connection that {@link RedisRevocationStore} subscribes with: a
 * connected client of its own (`await client.duplicate().connect()`). node-redis subscribes again
 * by itself after a reconnection.
 */
export interface NodeRedisSubscriberLike {
  subscribe(channel: string, listener: NodeRedisMessageListener): Promise<unknown>
  unsubscribe(channel: string, listener?: NodeRedisMessageListener): Promise<unknown>
  on(event: 'ready', listener: () => void): unknown
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown
}

/**
 * A node-redis push listener. Typed for either of its reply modes (strings, or Buffers when a
 * client subscribes in buffer mode), so that single-server, Cluster and Sentinel clients all fit.
 */
export type NodeRedisMessageListener = (
  message: string | Uint8Array,
  channel: string | Uint8Array,
) => void

/** A dedicated subscriber connection of either client, recognised by its shape. */
export type RedisSubscriberLike = IoredisSubscriberLike | NodeRedisSubscriberLike

/** An ioredis connection has `call`; a node-redis one does not. */
export function isIoredis(sub: RedisSubscriberLike): sub is IoredisSubscriberLike {
  return typeof (sub as Partial<IoredisSubscriberLike>).call === 'function'
}
