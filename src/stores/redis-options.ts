import type { StoreWrite } from '../session/store.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { RedisClientLike } from './redis-clients.ts'

// The options of RedisStore and the checks that turn a wrong option into ERR_INVALID_OPTION
// (and a wrong write or ttl into a RangeError) before any command is sent.

/**
 * Options of {@link RedisStore}.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { client, prefix: 'myapp:', commandTimeout: 500 }
 * ```
 */
export interface RedisStoreOptions {
  /**
   * A connected ioredis or node-redis client: a single server, a Sentinel client (ioredis
   * `Redis` with `sentinels`, node-redis `createSentinel`) or a Redis Cluster client (ioredis
   * `Cluster`, node-redis `createCluster`). The app owns it and closes it.
   */
  readonly client: RedisClientLike
  /**
   * Prepended to every key, so that several apps can share one Redis. It must not contain `{` or
   * `}` (the keys' Redis Cluster hash tags must stay theirs).
   * @default ''
   */
  readonly prefix?: string | undefined
  /**
   * Milliseconds an operation may take before it rejects with a {@link StoreUnavailableError}
   * (reason `timeout`) instead of holding the request. `Infinity` waits forever.
   * @default 2000
   */
  readonly commandTimeout?: number | undefined
  /**
   * Redis Cluster mode. A write whose keys are in different hash slots (different `{tags}`) is
   * then split into steps, each within one slot: a `requires` key checked first, then the new
   * record (with its index when it shares its slot), then the rest (the `requires` key checked
   * again after a create, the index, then the deletion of the replaced record). login-manager
   * keeps a user's keys in one slot, so this only happens for sessions moving between tags (a
   * login, or the first request after a secret rotation). Without it (a single server, or
   * Sentinel) every operation is one script.
   *
   * It is on by itself for a cluster client (ioredis `Cluster`, node-redis `createCluster`);
   * set it to `true` for another client that talks to a cluster, such as a cluster proxy.
   * `false` with a cluster client is refused: a cluster answers `CROSSSLOT` to any script with
   * keys in several slots.
   * @default true for an ioredis `Cluster` or a node-redis `createCluster` client, false otherwise
   */
  readonly cluster?: boolean | undefined
}

/** Refuses anything but an options object, above all the client itself: `new RedisStore(client)`. */
export function checkOptionsShape(options: unknown): void {
  if (typeof options !== 'object' || options === null) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `RedisStore: expected an options object, got ${options === null ? 'null' : typeof options}; create it with new RedisStore({ client })`,
    )
  }
  const o = options as Record<string, unknown>
  if (typeof o.call === 'function' || typeof o.sendCommand === 'function') {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      'RedisStore: got a Redis client where it takes options: write new RedisStore({ client }), not new RedisStore(client)',
    )
  }
}

/** The settings RedisStore runs with, once its options have been checked. */
export interface RedisSettings {
  readonly prefix: string
  readonly timeout: number
  readonly cluster: boolean
}

/** `cluster`, `prefix` and `commandTimeout`, checked, with their defaults. */
export function checkSettings(options: RedisStoreOptions, isCluster: boolean): RedisSettings {
  if (options.cluster === false && isCluster) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      'RedisStore: cluster: false with a Redis Cluster client (ioredis Cluster, node-redis createCluster): remove the option, or set it to true; a cluster refuses writes whose keys lie in several hash slots',
    )
  }
  const prefix = options.prefix ?? ''
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      "RedisStore prefix must be a string without '{' or '}' (they would change the keys' Redis Cluster hash tags)",
    )
  }
  const timeout = options.commandTimeout ?? 2000
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout <= 0) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `RedisStore commandTimeout must be a positive number of milliseconds (or Infinity), got ${String(timeout)}`,
    )
  }
  return {
    prefix,
    // Beyond 2^31 - 1 ms, setTimeout would fire at once: such a timeout means no timeout.
    timeout: timeout > 2_147_483_647 ? Number.POSITIVE_INFINITY : timeout,
    cluster: options.cluster ?? isCluster,
  }
}

export function wholeSeconds(ttl: number, operation: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
    throw new RangeError(`RedisStore.${operation}: ttl must be a finite number of seconds`)
  }
  return Math.max(1, Math.ceil(ttl))
}

/** Refuses a write that no store could run; returns its ttl in whole seconds. */
export function checkWrite(write: StoreWrite): number {
  const ttl = wholeSeconds(write.ttl, 'write')
  if (write.mode !== 'create' && write.mode !== 'update') {
    throw new RangeError(`RedisStore.write: mode must be 'create' or 'update'`)
  }
  const set = Object.entries(write.set)
  if (write.mode === 'create' && set.length === 0) {
    throw new RangeError(
      'RedisStore.write: a created record needs at least one field (Redis has no empty hashes)',
    )
  }
  if (write.mode === 'create' && write.expect !== undefined) {
    throw new RangeError('RedisStore.write: `expect` applies to updates only')
  }
  return ttl
}
