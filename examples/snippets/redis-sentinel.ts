// RedisStore behind Redis Sentinel, through ioredis or node-redis: the client asks the sentinels
// where the primary is, and follows it when they promote a replica.
import { Redis } from 'ioredis'
import { RedisStore } from 'login-manager/redis'
import { createSentinel } from 'redis'

/** REDIS_SENTINELS="10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379", REDIS_SENTINEL_NAME="mymaster". */
function sentinels(env: NodeJS.ProcessEnv): {
  name: string
  nodes: { host: string; port: number }[]
} {
  const name = env.REDIS_SENTINEL_NAME
  const nodes = (env.REDIS_SENTINELS ?? '').split(',').filter((node) => node !== '')
  if (name === undefined || nodes.length === 0) {
    throw new Error('set REDIS_SENTINELS (host:port,…) and REDIS_SENTINEL_NAME')
  }
  return {
    name,
    nodes: nodes.map((node) => {
      const [host, port] = node.split(':')
      return { host: host ?? '', port: Number(port ?? 26379) }
    }),
  }
}

export async function createIoredisSentinelStore(env = process.env, log = console.error) {
  const { name, nodes } = sentinels(env)
  const client = new Redis({
    sentinels: nodes,
    name,
    // Credentials: sentinelPassword for the sentinels, password for the primary; TLS: tls: {}.
    lazyConnect: true, // connect below, before the app serves requests
    enableOfflineQueue: false, // while no primary is reachable, fail at once
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // Move to the new primary as soon as the sentinels announce it: a demoted primary that is
    // still up would otherwise keep taking writes, which are lost once it becomes a replica.
    failoverDetector: true,
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  })
  // Required: an 'error' event without a listener crashes the process.
  client.on('error', (error) => log(`redis: ${error.message}`))
  // With failoverDetector, ioredis can stop for good ("Connection is closed.") when a new
  // primary is announced while it is reconnecting: start it again, unless the app closes it.
  let closing = false
  client.on('end', () => {
    if (!closing) setTimeout(() => client.connect().catch(() => {}), 100)
  })
  await client.connect()
  const store = new RedisStore({
    client,
    prefix: env.REDIS_PREFIX ?? 'myapp:',
    commandTimeout: 1_000,
  })
  const close = () => {
    closing = true
    return client.quit()
  }
  return { client, store, close }
}

export async function createNodeRedisSentinelStore(env = process.env, log = console.error) {
  const { name, nodes } = sentinels(env)
  const client = createSentinel({
    name,
    sentinelRootNodes: nodes,
    // Settings of the primary's connections (credentials, TLS); sentinelClientOptions for the
    // sentinels'. It follows the sentinels' announcements of a new primary by itself.
    nodeClientOptions: { disableOfflineQueue: true, socket: { connectTimeout: 2_000 } },
  })
  client.on('error', (error: Error) => log(`redis sentinel: ${error.message}`))
  await client.connect()
  const store = new RedisStore({
    client,
    prefix: env.REDIS_PREFIX ?? 'myapp:',
    commandTimeout: 1_000,
  })
  return { client, store, close: () => client.close() }
}
