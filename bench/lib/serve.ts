import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Express } from 'express'

/**
 * Starts a benchmark server on 127.0.0.1:$PORT (0 picks a free port) and prints `ready <port>`,
 * the line `bench/run.ts` waits for. Exits on SIGTERM / SIGINT, or when the parent goes away.
 */
export function serve(app: Express): Server {
  const port = Number(process.env.PORT ?? 0)
  const server = app.listen(port, '127.0.0.1', (error?: Error) => {
    if (error) {
      console.error(error)
      process.exit(1)
    }
    const address = server.address() as AddressInfo
    process.stdout.write(`ready ${address.port}\n`)
  })
  const stop = () => process.exit(0)
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // The parent closes our stdin when it exits, even when it dies without killing us.
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  return server
}

/** The secret shared by the parent and the login-manager server. */
export function benchSecret(): string {
  const secret = process.env.BENCH_SECRET
  if (secret === undefined || secret === '') {
    console.error('BENCH_SECRET is not set: start this server through `npm run bench`')
    process.exit(1)
  }
  return secret
}
