// Ablation: bare Express 5 plus a per-response `writeHead` wrapper (the on-headers idiom, as
// login-manager's Express adapter installs one) that only calls through. What the hook costs
// before it does any work.
import type { ServerResponse } from 'node:http'
import express from 'express'
import { serve } from '../lib/serve.ts'

const app = express()

app.get('/protected', (_req, res) => {
  const writeHead = res.writeHead as (...args: unknown[]) => ServerResponse
  res.writeHead = function writeHeadHooked(this: ServerResponse, ...args: unknown[]) {
    return writeHead.apply(this, args)
  } as typeof res.writeHead
  res.send('Logged in as: leafstorm')
})

serve(app)
