// Bare Hono on @hono/node-server: the protected route with no authentication (the baseline).
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { announce, HOST, loggedInAs, PORT } from './listen.ts'

const app = new Hono()

app.get('/protected', (c) => c.html(loggedInAs('leafstorm')))

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
