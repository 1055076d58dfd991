// server.ts: the app of fetch-app.ts on Deno.
// Run it: SESSION_SECRET=... deno run --allow-net --allow-env --allow-read server.ts
import { createHandler } from './fetch-app.ts'

// The part of Deno's API used here (Deno's own types have it as Deno.serve).
interface DenoServeInfo {
  readonly remoteAddr: { readonly hostname: string; readonly port: number }
}
export interface DenoLike {
  serve(
    options: { port: number; hostname: string },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): { readonly finished: Promise<void> }
}

export function start(
  deno: DenoLike,
  handler = createHandler(),
  port = Number(process.env.PORT ?? 3000),
) {
  // Deno knows the peer's address; session protection hashes it. Behind a proxy, pass the
  // address your proxy vouches for instead (see "Client address" in docs/fetch.md).
  return deno.serve({ port, hostname: '127.0.0.1' }, (request, info) =>
    handler(request, { clientAddress: info.remoteAddr.hostname }),
  )
}

if ((import.meta as { main?: boolean }).main === true) {
  start((globalThis as unknown as { Deno: DenoLike }).Deno)
}
