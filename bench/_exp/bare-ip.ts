import { createHash } from 'node:crypto'
import express from 'express'
import { serve } from '../lib/serve.ts'
const app = express()
app.get('/protected', (req, res) => {
  const id = createHash('sha256').update(`${req.ip}|${req.headers['user-agent']}`).digest('base64url').slice(0, 22)
  res.send(id.length > 0 ? 'Logged in as: leafstorm' : '')
})
serve(app)
