// Cookie sessions on several instances: one revocation list for all of them, in Redis, so a
// logout on any instance ends that session on every instance, and survives restarts.
import { Redis } from 'ioredis'
import { LoginManager, type UserMixin } from 'login-manager'
import { RedisRevocationStore, StoreUnavailableError } from 'login-manager/redis'

export async function createManager<User extends UserMixin>(
  userLoader: (id: string) => Promise<User | null>,
  env = process.env,
) {
  const secret = env.SESSION_SECRET
  const url = env.REDIS_URL
  if (secret === undefined || url === undefined) throw new Error('set SESSION_SECRET and REDIS_URL')
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  // A subscribed connection can run no other command: the push messages get one of their own.
  const subscriber = client.duplicate({ enableOfflineQueue: true })
  for (const connection of [client, subscriber]) {
    connection.on('error', (error) => console.error(`redis: ${error.message}`)) // required
  }
  const manager = new LoginManager<User>({
    secret,
    userLoader,
    revocation: {
      store: new RedisRevocationStore({ client, subscriber, prefix: 'myapp:' }),
      resyncInterval: 5, // seconds: also reload what was revoked, should a message be missed
    },
  })
  manager.on('storeError', ({ operation, error }) => {
    // 'revocation.add', 'revocation.load', 'revocation.subscribe' or 'revocation.full'
    const reason = error instanceof StoreUnavailableError ? error.reason : 'error'
    console.error(JSON.stringify({ event: 'revocation-store-error', operation, reason }))
  })
  // Serve only once the list holds what Redis held: until then, a cookie ended by another
  // instance before this one started would still be accepted here.
  await manager.ready()
  const close = async () => {
    await manager.close() // writes what Redis has not acknowledged yet, then unsubscribes
    await Promise.all([client.quit(), subscriber.quit()])
  }
  return { manager, close }
}
