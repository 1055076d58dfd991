// `npm start`: serves the basic example on http://127.0.0.1:5000 (PORT changes the port;
// FRAMEWORK=express|hono|fastify|koa|fetch picks the framework, express by default).
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'

const port = Number(process.env.PORT ?? 5000)
const host = process.env.HOST ?? '127.0.0.1'
const framework = process.env.FRAMEWORK ?? 'express'
const frameworks = ['express', 'hono', 'fastify', 'koa', 'fetch']

async function start(): Promise<{ close(): void }> {
  switch (framework) {
    case 'express': {
      const { createApp } = await import('./basic/express.ts')
      return createApp().listen(port, host)
    }
    case 'hono': {
      const { createApp } = await import('./basic/hono.ts')
      return serve({ fetch: createApp().fetch, port, hostname: host })
    }
    case 'fastify': {
      const { createApp } = await import('./basic/fastify.ts')
      const app = await createApp()
      await app.listen({ port, host })
      return { close: () => void app.close() }
    }
    case 'koa': {
      const { createApp } = await import('./basic/koa.ts')
      return createApp().listen(port, host)
    }
    case 'fetch': {
      const { createHandler } = await import('./basic/fetch.ts')
      const handler = createHandler()
      return serve({
        fetch: (request, env) =>
          handler(request, { clientAddress: env.incoming.socket.remoteAddress }),
        port,
        hostname: host,
      }) as Server
    }
    default:
      console.error(`FRAMEWORK=${framework} is not one of: ${frameworks.join(', ')}`)
      process.exit(1)
  }
}

const server = await start()
console.log(`login-manager basic example (${framework}) on http://${host}:${port}/`)
console.log('log in as leafstorm / secret')
process.on('SIGTERM', () => server.close())
process.on('SIGINT', () => server.close())
