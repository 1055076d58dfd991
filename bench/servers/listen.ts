import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * The port to listen on: $PORT, or 0 (a free one). Servers listen on 127.0.0.1 only.
 */
export const PORT = Number(process.env.PORT ?? 0)
export const HOST = '127.0.0.1'

/**
 * What `bench/lib/serve.ts` does for Express, for any `node:http` server (Hono and Fetch through
 * `@hono/node-server`, Fastify, Koa): prints `ready <port>` once the server listens, the line the
 * parent waits for, and exits on SIGTERM / SIGINT or when the parent goes away (stdin closes).
 * `cleanup` runs before exiting (closing a Redis client, for instance).
 */
export function announce(server: Server, cleanup?: () => Promise<void> | void): void {
  const ready = () => {
    const address = server.address() as AddressInfo
    process.stdout.write(`ready ${address.port}\n`)
  }
  if (server.listening) ready()
  else server.once('listening', ready)
  server.once('error', (error) => {
    console.error(error)
    process.exit(1)
  })
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    Promise.resolve(cleanup?.())
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
}

/** The same page on every contender (the body `bench/lib/contenders.ts` checks for). */
export const loggedInAs = (id: string): string => `Logged in as: ${id}`

/** The same secret handling as `bench/lib/serve.ts`: set by the parent, required. */
export { benchSecret } from '../lib/serve.ts'
