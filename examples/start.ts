// `npm start`: serves an example on http://127.0.0.1:3000 (PORT changes the port, HOST the
// address). EXAMPLE=basic|account picks the example (basic: Flask-Login's README app; account:
// remember-me, fresh logins, flash messages and "your devices"), FRAMEWORK=express|hono|
// fastify|koa|fetch the framework (express by default), SESSION_STORE=memory|redis|postgres|
// mysql|sqlite the sessions (REDIS_URL, DATABASE_URL, MYSQL_URL, SQLITE_PATH).
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import type { SessionStore } from 'login-manager'
import { storeFromEnv } from './shared/store.ts'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const example = process.env.EXAMPLE ?? 'basic'
const framework = process.env.FRAMEWORK ?? 'express'
const frameworks = ['express', 'hono', 'fastify', 'koa', 'fetch']

type FetchHandler = Parameters<typeof serve>[0]['fetch']

/** Each example's app for each framework; the compiler checks that both have the same shape. */
interface Example {
  express(): Promise<{
    createApp(secret?: string, store?: SessionStore): { listen(port: number, host: string): Server }
  }>
  hono(): Promise<{ createApp(secret?: string, store?: SessionStore): { fetch: FetchHandler } }>
  fastify(): Promise<{
    createApp(
      secret?: string,
      store?: SessionStore,
    ): Promise<{
      listen(options: { port: number; host: string }): Promise<unknown>
      close(): Promise<unknown>
    }>
  }>
  koa(): Promise<{
    createApp(secret?: string, store?: SessionStore): { listen(port: number, host: string): Server }
  }>
  fetch(): Promise<{ createHandler(secret?: string, store?: SessionStore): FetchHandler }>
}

const EXAMPLES: Record<string, Example> = {
  basic: {
    express: () => import('./basic/express.ts'),
    hono: () => import('./basic/hono.ts'),
    fastify: () => import('./basic/fastify.ts'),
    koa: () => import('./basic/koa.ts'),
    fetch: () => import('./basic/fetch.ts'),
  },
  account: {
    express: () => import('./account/express.ts'),
    hono: () => import('./account/hono.ts'),
    fastify: () => import('./account/fastify.ts'),
    koa: () => import('./account/koa.ts'),
    fetch: () => import('./account/fetch.ts'),
  },
}

if (!Object.hasOwn(EXAMPLES, example)) {
  console.error(`EXAMPLE=${example} is not one of: ${Object.keys(EXAMPLES).join(', ')}`)
  process.exit(1)
}
if (!frameworks.includes(framework)) {
  console.error(`FRAMEWORK=${framework} is not one of: ${frameworks.join(', ')}`)
  process.exit(1)
}

const { store, close: closeStore } = await storeFromEnv().catch((error: Error) => {
  console.error(error.message)
  process.exit(1)
})

async function start(chosen: Example): Promise<{ close(): void }> {
  switch (framework) {
    case 'express':
      return (await chosen.express()).createApp(undefined, store).listen(port, host)
    case 'koa':
      return (await chosen.koa()).createApp(undefined, store).listen(port, host)
    case 'hono': {
      const app = (await chosen.hono()).createApp(undefined, store)
      return serve({ fetch: app.fetch, port, hostname: host })
    }
    case 'fastify': {
      const app = await (await chosen.fastify()).createApp(undefined, store)
      await app.listen({ port, host })
      return { close: () => void app.close() }
    }
    default: {
      const handler = (await chosen.fetch()).createHandler(undefined, store)
      return serve({ fetch: handler, port, hostname: host }) as Server
    }
  }
}

const server = await start(EXAMPLES[example] as Example)
const storeName = process.env.SESSION_STORE ?? 'cookie'
console.log(
  `login-manager ${example} example (${framework}, ${storeName} sessions) on http://${host}:${port}/`,
)
console.log('log in as leafstorm / secret')
const stop = () => {
  server.close()
  void closeStore()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
