// `npm start`: serves the basic example on http://127.0.0.1:5000 (PORT changes the port;
// FRAMEWORK=express|hono|fastify|koa|fetch picks the framework, express by default).
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { storeFromEnv } from './basic/store.ts'

const port = Number(process.env.PORT ?? 5000)
const host = process.env.HOST ?? '127.0.0.1'
const framework = process.env.FRAMEWORK ?? 'express'
const frameworks = ['express', 'hono', 'fastify', 'koa', 'fetch']

const { store, close: closeStore } = await storeFromEnv().catch((error: Error) => {
  console.error(error.message)
  process.exit(1)
})

async function start(): Promise<{ close(): void }> {
  switch (framework) {
    case 'express': {
      const { createApp } = await import('./basic/express.ts')
      return createApp(undefined, store).listen(port, host)
    }
    case 'hono': {
      const { createApp } = await import('./basic/hono.ts')
      return serve({ fetch: createApp(undefined, store).fetch, port, hostname: host })
    }
    case 'fastify': {
      const { createApp } = await import('./basic/fastify.ts')
      const app = await createApp(undefined, store)
      await app.listen({ port, host })
      return { close: () => void app.close() }
    }
    case 'koa': {
      const { createApp } = await import('./basic/koa.ts')
      return createApp(undefined, store).listen(port, host)
    }
    case 'fetch': {
      const { createHandler } = await import('./basic/fetch.ts')
      const handler = createHandler(undefined, store)
      return serve({
        fetch: handler,
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
const storeName = process.env.SESSION_STORE ?? 'cookie'
console.log(
  `login-manager basic example (${framework}, ${storeName} sessions) on http://${host}:${port}/`,
)
console.log('log in as leafstorm / secret')
const stop = () => {
  server.close()
  void closeStore()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
