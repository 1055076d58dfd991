// RedisStore over node-redis (the `redis` package) on one Redis server.

import { RedisStore } from 'login-manager/redis'
import { createClient } from 'redis'

export async function createRedisStore(env = process.env) {
  const url = env.REDIS_URL // rediss://user:password@host:6380 for TLS with a password
  if (url === undefined) throw new Error('set REDIS_URL')
  const client = createClient({
    url,
    disableOfflineQueue: true, // while disconnected, fail at once instead of queueing
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000), // keep retrying
    },
  })
  // Required: an 'error' event without a listener crashes the process.
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`))
  await client.connect() // before the app serves requests
  const store = new RedisStore({ client, prefix: 'myapp:', commandTimeout: 500 })
  return { store, close: () => client.close() }
}
