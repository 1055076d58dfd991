// RedisStore over ioredis, set up for production: fail fast, log errors, TLS and auth from the URL.
import { Redis } from 'ioredis'
import { LoginManager, type UserMixin } from 'login-manager'
import { RedisStore, StoreUnavailableError } from 'login-manager/redis'

export async function createRedisStore(env = process.env) {
  // rediss://user:password@redis.internal:6380: "rediss" means TLS. Keep the URL in a secret.
  const url = env.REDIS_URL
  if (url === undefined) throw new Error('set REDIS_URL')
  const client = new Redis(url, {
    lazyConnect: true, // connect below, before the app serves requests
    enableOfflineQueue: false, // while disconnected, fail at once instead of queueing
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // After a failover the old primary answers READONLY: reconnect, and resend to the new one.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  })
  // Required: an 'error' event without a listener crashes the process.
  client.on('error', (error) => console.error(`redis: ${error.message}`))
  await client.connect()
  const store = new RedisStore({
    client,
    prefix: 'myapp:', // one prefix per app (and per environment) sharing this Redis
    commandTimeout: 500, // ms per store operation before the request gets its 503
  })
  return { store, close: () => client.quit() }
}

export function createManager<User extends UserMixin>(
  store: RedisStore,
  userLoader: (id: string) => Promise<User | null>,
) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader,
    session: { store, onStoreError: 'fail' }, // 'fail' (503) is the default
  })
  // One line per failure, for your log pipeline and alerts (it replaces the stderr default).
  manager.on('storeError', ({ auth, operation, error }) => {
    const unavailable = error instanceof StoreUnavailableError
    console.error(
      JSON.stringify({
        event: 'session-store-error',
        operation, // 'load', 'remember' or 'save'
        reason: unavailable ? error.reason : 'error', // 'timeout' or 'error'
        message: error instanceof Error ? error.message : String(error),
        path: auth?.request.path,
      }),
    )
  })
  return manager
}
