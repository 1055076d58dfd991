// server.ts: the app of fetch-app.ts on Bun.
// Run it: SESSION_SECRET=$(bunx login-manager secret) bun server.ts
import { createHandler } from './fetch-app.ts'

// The part of Bun's API used here. With bun-types installed, drop these and use `Bun` directly.
interface BunServer {
  requestIP(request: Request): { address: string } | null
  readonly url: URL
}
export interface BunLike {
  serve(options: {
    port: number
    hostname: string
    fetch(request: Request, server: BunServer): Response | Promise<Response>
  }): BunServer
}

export function start(
  bun: BunLike,
  handler = createHandler(),
  port = Number(process.env.PORT ?? 3000),
) {
  return bun.serve({
    port,
    hostname: '127.0.0.1',
    // Bun knows the peer's address; session protection hashes it. Behind a proxy, pass the
    // address your proxy vouches for instead (see "Client address" in docs/fetch.md).
    fetch: (request, server) =>
      handler(request, { clientAddress: server.requestIP(request)?.address }),
  })
}

if ((import.meta as { main?: boolean }).main === true) {
  const server = start((globalThis as unknown as { Bun: BunLike }).Bun)
  console.log(`${server.url}login`)
}
