// server.ts: the app of fetch-app.ts on Node, through @hono/node-server's Fetch server.
// Run it: SESSION_SECRET=$(npx login-manager secret) npx tsx server.ts
import { pathToFileURL } from 'node:url'
import { serve } from '@hono/node-server'
import { createHandler } from './fetch-app.ts'

export function start(handler = createHandler(), port = 3000) {
  return serve({
    port,
    hostname: '127.0.0.1',
    // @hono/node-server calls fetch(request, { incoming, outgoing }): the handler takes that as
    // its context, and login-manager reads the peer's address from `incoming`.
    fetch: handler,
  })
}

// Started with `npx tsx server.ts`: listen on PORT, 3000 by default.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000)
  start(createHandler(), port)
  console.log(`http://127.0.0.1:${port}/login`)
}
