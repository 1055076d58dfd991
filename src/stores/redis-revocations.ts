import { randomBase64url } from '../crypto/random.ts'
import {
  REVOCATION_ID,
  type RevocationBatch,
  type RevocationEntry,
  type RevocationListener,
  type RevocationStore,
} from '../session/revocations.ts'
import { LoginManagerError } from '../shared/errors.ts'
import { adapt, type RedisClientLike, type Send } from './redis-clients.ts'
import { ADD, pairs, parseMessage, SINCE, START } from './redis-revocation-scripts.ts'
import { runScript, type Script, strings } from './redis-scripts.ts'
import {
  type IoredisSubscriberLike,
  isIoredis,
  type NodeRedisMessageListener,
  type NodeRedisSubscriberLike,
  type RedisSubscriberLike,
} from './redis-subscribers.ts'
import { StoreUnavailableError } from './unavailable.ts'

export type {
  IoredisSubscriberLike,
  NodeRedisMessageListener,
  NodeRedisSubscriberLike,
  RedisSubscriberLike,
} from './redis-subscribers.ts'

/**
 * Options of {@link RedisRevocationStore}.
 *
 * @example
 * ```ts
 * const options: RedisRevocationStoreOptions = { client, subscriber, prefix: 'myapp:' }
 * ```
 */
export interface RedisRevocationStoreOptions {
  /** A connected ioredis or node-redis client for commands; may be shared with a `RedisStore`. */
  readonly client: RedisClientLike
  /**
   * A second, dedicated connection for the push messages (a subscribed connection can run no
   * other command): `client.duplicate()` with ioredis, `await client.duplicate().connect()` with
   * node-redis. The app owns both connections, listens to their `error` events and closes them.
   */
  readonly subscriber: RedisSubscriberLike
  /**
   * Prepended to the keys and the channel, so that several apps can share one Redis. Apps whose
   * managers share a secret should share a prefix; others should not. No `{` or `}`.
   * @default ''
   */
  readonly prefix?: string | undefined
  /** Milliseconds a command may take before it fails. @default 2000 */
  readonly commandTimeout?: number | undefined
  /**
   * Most ids kept in Redis; past it, those closest to their expiry are dropped first.
   * @default 1000000
   */
  readonly maxEntries?: number | undefined
}

/** A resync reads at most this many ids; more means it fell far behind: reload everything. */
const SINCE_LIMIT = 10_000
/** A resync reads a little before its cursor, for a server clock that stepped back. */
const CURSOR_MARGIN_MS = 2_000
/** Members per ZSCAN call of a full load. */
const SCAN_COUNT = 1_000

/**
 * A {@link RevocationStore} on Redis (6 or later, or Valkey): the revocation list of cookie
 * sessions shared by every instance and kept across restarts. Import it from
 * `login-manager/redis`; pass it as `revocation.store`.
 *
 * - Each revocation is written through, in one script, to a sorted set of ids scored by expiry
 *   (pruned as entries expire, capped at `maxEntries`), to a log of the last hour's revocations
 *   scored by when they happened, and published on a channel.
 * - Every instance subscribes to the channel on its `subscriber` connection and learns each
 *   revocation within milliseconds; every `revocation.resyncInterval` (5 s by default) and after
 *   each reconnection it also reads the log since its last read, so a missed message is caught
 *   up. An instance more than an hour behind reloads the whole set.
 * - Keys: `<prefix>lm:{revocations}:ids` and `<prefix>lm:{revocations}:log` (one hash tag, so
 *   the scripts work on Redis Cluster); channel `<prefix>lm:revocations`.
 * - Failures reject with a `StoreUnavailableError`; the list reports them as `storeError`
 *   events, keeps refusing what it knows, and retries.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { RedisRevocationStore } from 'login-manager/redis'
 *
 * const client = new Redis(process.env.REDIS_URL!)
 * const subscriber = client.duplicate()
 * for (const c of [client, subscriber]) c.on('error', (err) => log.warn({ err }, 'redis'))
 * const manager = new LoginManager<User>({
 *   secret, userLoader,
 *   revocation: { store: new RedisRevocationStore({ client, subscriber, prefix: 'myapp:' }) },
 * })
 * await manager.ready()
 * ```
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` from the constructor when `client` or
 * `subscriber` is missing or of an unknown kind, `subscriber` is the command client itself, or
 * `prefix`, `commandTimeout` or `maxEntries` is invalid.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly #send: Send
  readonly #subscriber: RedisSubscriberLike
  readonly #ids: string
  readonly #log: string
  readonly #epoch: string
  readonly #channel: string
  readonly #timeout: number
  readonly #max: number
  readonly #listeners = new Set<RevocationListener>()
  #subscribed = false
  #subscribing = false
  #stopSubscription: (() => Promise<void>) | undefined

  constructor(options: RedisRevocationStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'RedisRevocationStore: expected options { client, subscriber }',
      )
    }
    this.#send = adapt(options.client, 'RedisRevocationStore').send
    const subscriber = options.subscriber as unknown
    if (
      subscriber === null ||
      typeof subscriber !== 'object' ||
      typeof (subscriber as Record<string, unknown>).subscribe !== 'function' ||
      typeof (subscriber as Record<string, unknown>).on !== 'function'
    ) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'RedisRevocationStore subscriber: pass a dedicated connection for pub/sub (ioredis: client.duplicate(); node-redis: await client.duplicate().connect())',
      )
    }
    if (subscriber === (options.client as unknown)) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'RedisRevocationStore subscriber: must be a connection of its own, not the command client (a subscribed connection runs no other command); use client.duplicate()',
      )
    }
    this.#subscriber = options.subscriber
    const prefix = options.prefix ?? ''
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        "RedisRevocationStore prefix must be a string without '{' or '}'",
      )
    }
    const timeout = options.commandTimeout ?? 2000
    if (typeof timeout !== 'number' || !(timeout > 0) || timeout > 2_147_483_647) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `RedisRevocationStore commandTimeout must be a positive number of milliseconds, got ${String(timeout)}`,
      )
    }
    const max = options.maxEntries ?? 1_000_000
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `RedisRevocationStore maxEntries must be a positive integer, got ${String(max)}`,
      )
    }
    this.#timeout = timeout
    this.#max = max
    this.#ids = `${prefix}lm:{revocations}:ids`
    this.#log = `${prefix}lm:{revocations}:log`
    this.#epoch = `${prefix}lm:{revocations}:epoch`
    this.#channel = `${prefix}lm:revocations`
  }

  /**
   * Writes entries through (one script) and publishes them to every instance.
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   */
  async add(entries: readonly RevocationEntry[]): Promise<void> {
    const args = [this.#channel, String(this.#max)]
    for (const { id, expiresAt } of entries) {
      if (REVOCATION_ID.test(id) && Number.isFinite(expiresAt)) {
        args.push(id, String(Math.ceil(expiresAt)))
      }
    }
    if (args.length === 2) return
    await this.#run('add', () => this.#script(ADD, [this.#ids, this.#log], args))
  }

  /**
   * Every id still revoked (without `cursor`: a scan of the whole set), or those revoked since
   * `cursor` (from the log; the whole set again when the log does not reach back that far).
   * @throws {StoreUnavailableError} when Redis fails or does not answer within `commandTimeout`.
   */
  async load(cursor?: string): Promise<RevocationBatch> {
    const colon = cursor?.lastIndexOf(':') ?? -1
    const epoch = cursor?.slice(0, colon)
    const since = Number(cursor?.slice(colon + 1))
    if (cursor === undefined || colon <= 0 || !Number.isFinite(since)) return this.#loadAll(false)
    const reply = strings(
      await this.#run('load', () =>
        this.#script(
          SINCE,
          [this.#ids, this.#log, this.#epoch],
          [String(since), String(SINCE_LIMIT), epoch as string],
        ),
      ),
    )
    if (reply[1] === 'ok') {
      const next = `${epoch}:${Number(reply[0]) - CURSOR_MARGIN_MS}`
      return { entries: pairs(reply, 2), cursor: next }
    }
    // Redis lost its data since the cursor (it restarted without persistence): the lists write
    // back what they hold. Or the log does not reach back far enough: everything is read again.
    return this.#loadAll(reply[1] === 'reset')
  }

  /**
   * Pushes every revocation published on the channel to `listener`, subscribing the `subscriber`
   * connection on the first listener; the returned function unsubscribes (on the last one).
   * After each reconnection of the subscriber, listeners hear `gap()` and load what they missed.
   */
  subscribe(listener: RevocationListener): () => Promise<void> {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#startSubscription()
    return async () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      const stop = this.#stopSubscription
      this.#stopSubscription = undefined
      await stop?.()
    }
  }

  async #loadAll(reset: boolean): Promise<RevocationBatch> {
    return this.#run('load', async () => {
      // The cursor is taken first: whatever is revoked during the scan is in the log after it.
      const candidate = randomBase64url(9)
      const [nowText, nowMsText, epoch] = strings(
        await this.#script(START, [this.#epoch], [candidate]),
      )
      const now = Number(nowText)
      const entries: RevocationEntry[] = []
      let scan = '0'
      do {
        const reply = await this.#send(this.#ids, [
          'ZSCAN',
          this.#ids,
          scan,
          'COUNT',
          String(SCAN_COUNT),
        ])
        if (!Array.isArray(reply) || reply.length !== 2) {
          throw new Error('unexpected ZSCAN reply from Redis')
        }
        scan = String(reply[0])
        for (const entry of pairs(strings(reply[1]), 0))
          if (entry.expiresAt > now) entries.push(entry)
      } while (scan !== '0')
      return { entries, cursor: `${epoch}:${Number(nowMsText) - CURSOR_MARGIN_MS}`, reset }
    })
  }

  #startSubscription(): void {
    const sub = this.#subscriber
    const channel = this.#channel
    const deliver = (message: string) => {
      const entries = parseMessage(message)
      if (entries.length === 0) return
      for (const listener of [...this.#listeners]) listener.entries(entries)
    }
    const onMessage = (from: string, message: string) => {
      if (from === channel) deliver(message)
    }
    const onNodeRedisMessage: NodeRedisMessageListener = (message) =>
      deliver(typeof message === 'string' ? message : Buffer.from(message).toString('utf8'))
    // Both clients emit `ready` after every (re)connection and subscribe again by themselves:
    // what was published while the connection was down is read back from the log.
    const onReady = () => {
      if (!this.#subscribed) this.#subscribeNow(ioredis, onNodeRedisMessage)
      else for (const listener of [...this.#listeners]) listener.gap()
    }
    const ioredis = isIoredis(sub)
    if (ioredis) sub.on('message', onMessage)
    sub.on('ready', onReady)
    this.#stopSubscription = async () => {
      sub.removeListener('ready', onReady)
      if (ioredis) sub.removeListener('message', onMessage as (...args: unknown[]) => void)
      const wasSubscribed = this.#subscribed
      this.#subscribed = false
      if (!wasSubscribed) return
      await this.#run('unsubscribe', () =>
        ioredis
          ? sub.unsubscribe(channel)
          : (sub as NodeRedisSubscriberLike).unsubscribe(channel, onNodeRedisMessage),
      )
    }
    this.#subscribeNow(ioredis, onNodeRedisMessage)
  }

  #subscribeNow(ioredis: boolean, onNodeRedisMessage: NodeRedisMessageListener): void {
    if (this.#subscribing || this.#stopSubscription === undefined) return
    this.#subscribing = true
    const sub = this.#subscriber
    // No timeout: a client that queues commands offline subscribes once it is connected.
    const subscribed = ioredis
      ? (sub as IoredisSubscriberLike).subscribe(this.#channel)
      : (sub as NodeRedisSubscriberLike).subscribe(this.#channel, onNodeRedisMessage)
    Promise.resolve(subscribed).then(
      () => {
        this.#subscribing = false
        if (this.#stopSubscription === undefined) return
        this.#subscribed = true
        for (const listener of [...this.#listeners]) listener.gap()
      },
      (error: unknown) => {
        // Tried again at the subscriber's next `ready`.
        this.#subscribing = false
        const failure = unavailable('subscribe', error)
        for (const listener of [...this.#listeners]) listener.error(failure)
      },
    )
  }

  #script(script: Script, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.#send, script, keys, args)
  }

  /** Runs an operation under `commandTimeout`; every failure becomes a StoreUnavailableError. */
  #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false
      const timer = setTimeout(() => {
        done = true
        reject(
          new StoreUnavailableError(
            `RedisRevocationStore.${operation}`,
            'timeout',
            `no reply from Redis within ${this.#timeout} ms`,
          ),
        )
      }, this.#timeout)
      timer.unref?.()
      work().then(
        (value) => {
          if (done) return
          done = true
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          if (done) return
          done = true
          clearTimeout(timer)
          reject(unavailable(operation, error))
        },
      )
    })
  }
}

function unavailable(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error
  const detail = error instanceof Error ? error.message : String(error)
  return new StoreUnavailableError(
    `RedisRevocationStore.${operation}`,
    'error',
    detail || 'Redis client error',
    { cause: error },
  )
}
