import type { SessionStore, StoreWrite } from '../session/store.ts'
import { adapt, type Send, sameSlot } from './redis-clients.ts'
import {
  checkOptionsShape,
  checkSettings,
  checkWrite,
  type RedisStoreOptions,
  wholeSeconds,
} from './redis-options.ts'
import { runScript, type Script, strings } from './redis-scripts.ts'
import {
  ADD_TO_INDEX,
  DESTROY,
  DESTROY_MANY,
  EXISTS,
  GET,
  MEMBERS,
  PRUNE,
  TOUCH,
  WRITE,
} from './redis-session-scripts.ts'
import { Deadlines, StoreUnavailableError } from './unavailable.ts'

export type {
  IoredisLikeClient,
  NodeRedisClusterLikeClient,
  NodeRedisLikeClient,
  NodeRedisSentinelLikeClient,
  RedisClientLike,
} from './redis-clients.ts'
export type { RedisStoreOptions } from './redis-options.ts'
export { StoreUnavailableError }

/** Records per script call in `members`/`destroyIndex`, so a huge index never blocks Redis long. */
const CHUNK = 500

/**
 * A {@link SessionStore} on Redis (6 or later, or a compatible server such as Valkey), through
 * the app's own `ioredis` or `redis` client. Import it from `login-manager/redis`.
 *
 * - Records are Redis hashes with an expiry (whole seconds, at least 1; fractions round up).
 *   Indexes are sets whose expiry is extended to cover each record added to them.
 * - Every `write`, `touch`, `destroy` and `destroyIndex` is a Lua script, so it is atomic: the
 *   conditional checks (mode, `expect`, `requires`) and the writes happen in one step, and
 *   nothing is ever half-written. (`destroyIndex` is one script per chunk of 500 records.)
 *   Scripts are sent by SHA (`EVALSHA`) and re-sent in full after a `SCRIPT FLUSH` or a failover.
 * - Reads are scripts too, so they are answered by a primary even when the client may read from
 *   replicas: a replica lags, and a session read from one could look logged out, or still logged
 *   in after a logout.
 * - Every failure rejects with a {@link StoreUnavailableError}: Redis errors, a lost connection,
 *   and an operation that takes longer than `commandTimeout` (2 s by default). A timed-out write
 *   may still be applied later by Redis, whole or not at all.
 * - Keys are opaque; `prefix` is prepended to each. Cluster mode: see {@link RedisStoreOptions.cluster}.
 *
 * The app owns the client: it connects it, closes it, and **must listen to its `error` event**
 * (`client.on('error', log)`); both ioredis and node-redis emit connection errors there, and an
 * `error` event without a listener crashes Node. For fast failure while Redis is down, configure
 * the client not to queue commands offline (ioredis: `enableOfflineQueue: false`,
 * `maxRetriesPerRequest: 1`; node-redis: `disableOfflineQueue: true`); otherwise commands wait
 * for a reconnection until `commandTimeout`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { RedisStore } from 'login-manager/redis'
 *
 * const client = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * client.on('error', (err) => log.warn({ err }, 'redis'))
 * const store = new RedisStore({ client, prefix: 'myapp:' })
 * ```
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 *
 * const client = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true })
 * client.on('error', (err) => log.warn({ err }, 'redis'))
 * await client.connect()
 * const store = new RedisStore({ client, commandTimeout: 500 })
 * ```
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` from the constructor when it is given the client
 * itself instead of `{ client }`, when `client` has neither `call` nor `sendCommand`, `prefix`
 * contains `{` or `}`, `commandTimeout` is not a positive number, or `cluster` is `false` with a
 * cluster client. Every method rejects with {@link StoreUnavailableError} when Redis fails or is
 * too slow,
 * and with a `RangeError` for an invalid argument (a non-finite ttl, an unknown mode, a create
 * without fields).
 */
export class RedisStore implements SessionStore {
  readonly #send: Send
  readonly #prefix: string
  readonly #timeout: number
  readonly #cluster: boolean
  readonly #deadlines: Deadlines | undefined

  constructor(options: RedisStoreOptions) {
    checkOptionsShape(options)
    const { send, isCluster } = adapt(options.client)
    this.#send = send
    const { prefix, timeout, cluster } = checkSettings(options, isCluster)
    this.#prefix = prefix
    this.#timeout = timeout
    this.#deadlines = Number.isFinite(timeout) ? new Deadlines(timeout) : undefined
    this.#cluster = cluster
  }

  /**
   * Every field of a record, or `null` when it does not exist or has expired.
   *
   * @example
   * ```ts
   * const fields = await store.get('lm:{u1}:s:…')
   * ```
   *
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   */
  get(key: string): Promise<Record<string, string> | null> {
    return this.#run('get', async () => {
      const reply = await this.#script(GET, [this.#key(key)], [])
      const flat = strings(reply)
      if (flat.length === 0) return null
      const fields: Record<string, string> = Object.create(null)
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!
      return fields
    })
  }

  /**
   * A conditional write in one atomic script: `create` only when the key is absent, `update`
   * only when it exists, and only when the fields in `expect` hold those values and the key in
   * `requires` exists; fields set then removed, expiry, index, and the replaced record deleted
   * (and removed from `replacesIndex`). Returns whether the write happened; when it did not,
   * nothing changed. An update that removes every field deletes the record (Redis has no empty
   * hashes).
   *
   * In cluster mode, a `requires` key in another slot than the record cannot be checked in the
   * same script: it is checked just before, and for a `create` again just after, the new record
   * being deleted (and `false` returned) when it has gone in between.
   *
   * @example
   * ```ts
   * await store.write(newKey, { mode: 'create', set: { u: '42' }, ttl: 3600, index, replaces: oldKey, replacesIndex: index, requires: oldKey })
   * await store.write(tokenKey, { mode: 'update', set: { h: next }, ttl: 3600, expect: { h: read } })
   * ```
   *
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   * @throws {RangeError} for a non-finite ttl, an unknown mode, a create without fields or a
   * create with `expect`.
   */
  async write(key: string, write: StoreWrite): Promise<boolean> {
    const ttl = checkWrite(write)
    const set = Object.entries(write.set)
    const expect = Object.entries(write.expect ?? {})
    const replaces = write.replaces !== undefined && write.replaces !== key ? write.replaces : null
    const replacesIndex = replaces === null ? undefined : write.replacesIndex
    const requires = write.requires
    // On Redis Cluster, whatever is not in the record's slot is done in later steps.
    const indexInline = write.index !== undefined && this.#inline(key, write.index)
    const replaceInline =
      replaces !== null &&
      this.#inline(key, replaces) &&
      (replacesIndex === undefined || this.#inline(key, replacesIndex))
    const requiresInline = requires !== undefined && this.#inline(key, requires)
    return this.#run('write', async () => {
      if (requires !== undefined && !requiresInline && !(await this.#exists(requires))) {
        return false
      }
      const keys = [this.#key(key)]
      if (indexInline) keys.push(this.#key(write.index!))
      if (replaceInline) keys.push(this.#key(replaces!))
      if (replaceInline && replacesIndex !== undefined) keys.push(this.#key(replacesIndex))
      if (requiresInline) keys.push(this.#key(requires))
      const args = [
        write.mode,
        String(ttl),
        indexInline ? '1' : '0',
        replaceInline ? '1' : '0',
        replaceInline && replacesIndex !== undefined ? '1' : '0',
        requiresInline ? '1' : '0',
        key,
        replaces ?? '',
        String(expect.length),
        String(set.length),
      ]
      for (const [field, value] of expect) args.push(field, value)
      for (const [field, value] of set) args.push(field, value)
      for (const field of write.remove ?? []) args.push(field)
      const done = Number(await this.#script(WRITE, keys, args)) === 1
      if (!done) return false
      if (requires !== undefined && !requiresInline && write.mode === 'create') {
        if (!(await this.#exists(requires))) {
          await this.#destroy(key, indexInline ? write.index : undefined)
          return false
        }
      }
      if (write.index !== undefined && !indexInline) {
        await this.#script(ADD_TO_INDEX, [this.#key(write.index)], [key, String(ttl)])
      }
      if (replaces !== null && !replaceInline) await this.#destroy(replaces, replacesIndex)
      return true
    })
  }

  /**
   * Extends an existing record's expiry to `ttl` seconds from now and sets `fields` on it, in one
   * script; returns `false` (and writes nothing) when the record does not exist.
   *
   * @example
   * ```ts
   * await store.touch(key, 1800, { t: String(now) })
   * ```
   *
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   * @throws {RangeError} for a non-finite ttl.
   */
  async touch(
    key: string,
    ttl: number,
    fields?: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const seconds = wholeSeconds(ttl, 'touch')
    return this.#run('touch', async () => {
      const args = [String(seconds)]
      for (const [field, value] of Object.entries(fields ?? {})) args.push(field, value)
      return Number(await this.#script(TOUCH, [this.#key(key)], args)) === 1
    })
  }

  /**
   * Deletes a record and removes it from `index`; deleting a missing key is not an error.
   *
   * @example
   * ```ts
   * await store.destroy(key, index)
   * ```
   *
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   */
  destroy(key: string, index?: string): Promise<void> {
    return this.#run('destroy', () => this.#destroy(key, index))
  }

  /**
   * The keys in an index whose records still exist; the entries of expired or deleted records are
   * removed from the index on the way.
   *
   * @example
   * ```ts
   * const sessions = await store.members('lm:{u1}:idx')
   * ```
   *
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   */
  members(index: string): Promise<string[]> {
    return this.#run('members', async () => {
      const indexKey = this.#key(index)
      const { together, alone } = this.#bySlot(index, await this.#smembers(index))
      const alive: string[] = []
      for (const [keys, members] of this.#chunks(indexKey, together)) {
        alive.push(...strings(await this.#script(PRUNE, keys, members)))
      }
      // Cluster only: members outside the index's slot are checked one command at a time.
      for (const member of alone) {
        if (await this.#exists(member)) alive.push(member)
        else await this.#send(indexKey, ['SREM', indexKey, member])
      }
      return alive
    })
  }

  /**
   * Deletes every record listed in an index except those in `keep`, removes them from the index,
   * and returns how many records existed and were deleted.
   *
   * @example
   * ```ts
   * const loggedOut = await store.destroyIndex(index, [currentKey])
   * ```
   *
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   */
  destroyIndex(index: string, keep: readonly string[] = []): Promise<number> {
    return this.#run('destroyIndex', async () => {
      const indexKey = this.#key(index)
      const kept = new Set(keep)
      const listed = (await this.#smembers(index)).filter((member) => !kept.has(member))
      const { together, alone } = this.#bySlot(index, listed)
      let destroyed = 0
      for (const [keys, members] of this.#chunks(indexKey, together)) {
        destroyed += Number(await this.#script(DESTROY_MANY, keys, members))
      }
      // Cluster only: members outside the index's slot are deleted one command at a time.
      for (const member of alone) {
        const recordKey = this.#key(member)
        destroyed += Number(await this.#send(recordKey, ['DEL', recordKey]))
        await this.#send(indexKey, ['SREM', indexKey, member])
      }
      return destroyed
    })
  }

  #key(key: string): string {
    return this.#prefix + key
  }

  async #exists(key: string): Promise<boolean> {
    return Number(await this.#script(EXISTS, [this.#key(key)], [])) === 1
  }

  /** Whether `other` may go in the same script as `key` (always, unless on a cluster). */
  #inline(key: string, other: string): boolean {
    return !this.#cluster || sameSlot(key, other)
  }

  async #destroy(key: string, index: string | undefined): Promise<void> {
    if (index === undefined) {
      await this.#script(DESTROY, [this.#key(key)], [key])
    } else if (this.#inline(key, index)) {
      await this.#script(DESTROY, [this.#key(key), this.#key(index)], [key])
    } else {
      await this.#script(DESTROY, [this.#key(key)], [key])
      await this.#send(this.#key(index), ['SREM', this.#key(index), key])
    }
  }

  async #smembers(index: string): Promise<string[]> {
    return strings(await this.#script(MEMBERS, [this.#key(index)], []))
  }

  /** Splits an index's members into those a script may handle with the index, and the rest. */
  #bySlot(index: string, members: string[]): { together: string[]; alone: string[] } {
    if (!this.#cluster) return { together: members, alone: [] }
    const together: string[] = []
    const alone: string[] = []
    for (const member of members) (sameSlot(index, member) ? together : alone).push(member)
    return { together, alone }
  }

  /** Script arguments for members in chunks: KEYS = index then records, ARGV = the members. */
  *#chunks(indexKey: string, members: string[]): Generator<[string[], string[]]> {
    for (let i = 0; i < members.length; i += CHUNK) {
      const chunk = members.slice(i, i + CHUNK)
      yield [[indexKey, ...chunk.map((member) => this.#key(member))], chunk]
    }
  }

  #script(script: Script, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.#send, script, keys, args)
  }

  /** Runs an operation under `commandTimeout`, turning every failure into StoreUnavailableError. */
  #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const fail = (err: unknown): StoreUnavailableError => {
      if (err instanceof StoreUnavailableError) return err
      const detail = err instanceof Error ? err.message : String(err)
      return new StoreUnavailableError(
        `RedisStore.${operation}`,
        'error',
        detail || 'Redis client error',
        {
          cause: err,
        },
      )
    }
    if (this.#deadlines === undefined) {
      return work().catch((err: unknown) => {
        throw fail(err)
      })
    }
    const deadlines = this.#deadlines
    return new Promise<T>((resolve, reject) => {
      const entry = deadlines.add(() =>
        reject(
          new StoreUnavailableError(
            `RedisStore.${operation}`,
            'timeout',
            `no reply from Redis within ${this.#timeout} ms`,
          ),
        ),
      )
      // Once timed out, a late reply or rejection is dropped (never an unhandled rejection).
      work().then(
        (value) => {
          if (deadlines.settle(entry)) resolve(value)
        },
        (err: unknown) => {
          if (deadlines.settle(entry)) reject(fail(err))
        },
      )
    })
  }
}
