// RedisStore on a Redis Cluster, through ioredis or node-redis. Cluster mode is on by itself.
import { Cluster } from 'ioredis'
import { RedisStore } from 'login-manager/redis'
import { createCluster } from 'redis'

/** REDIS_CLUSTER_NODES="10.0.0.1:6379,10.0.0.2:6379": a few nodes; the client finds the rest. */
function clusterNodes(env: NodeJS.ProcessEnv): { host: string; port: number }[] {
  const nodes = (env.REDIS_CLUSTER_NODES ?? '').split(',').filter((node) => node !== '')
  if (nodes.length === 0) throw new Error('set REDIS_CLUSTER_NODES (host:port,host:port)')
  return nodes.map((node) => {
    const [host, port] = node.split(':')
    return { host: host ?? '', port: Number(port ?? 6379) }
  })
}

export async function createIoredisClusterStore(env = process.env, log = console.error) {
  const client = new Cluster(clusterNodes(env), {
    lazyConnect: true, // connect below, before the app serves requests
    enableOfflineQueue: false, // while the cluster is unreachable, fail at once
    // Per-node settings: credentials (username, password) and TLS (tls: {}) go here too.
    redisOptions: { connectTimeout: 2_000, maxRetriesPerRequest: 1 },
  })
  // Required: an 'error' event without a listener crashes the process.
  client.on('error', (error: Error) => log(`redis cluster: ${error.message}`))
  await client.connect()
  // While a primary is down, ioredis retries its commands until a replica has taken over;
  // commandTimeout bounds how long a request waits for that before it gets its 503.
  const store = new RedisStore({
    client,
    prefix: env.REDIS_PREFIX ?? 'myapp:',
    commandTimeout: 1_000,
  })
  return { client, store, close: () => client.quit() }
}

export async function createNodeRedisClusterStore(env = process.env, log = console.error) {
  const client = createCluster({
    rootNodes: clusterNodes(env).map(({ host, port }) => ({ socket: { host, port } })),
    // Settings of every node, credentials and TLS included (not in rootNodes).
    defaults: { disableOfflineQueue: true, socket: { connectTimeout: 2_000 } },
  })
  client.on('error', (error: Error) => log(`redis cluster: ${error.message}`))
  await client.connect()
  const store = new RedisStore({
    client,
    prefix: env.REDIS_PREFIX ?? 'myapp:',
    commandTimeout: 1_000,
  })
  return { client, store, close: () => client.close() }
}
