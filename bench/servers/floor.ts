// The floor on Express: the guard's work inline in the handler (bench/lib/floor.ts), then
// `Vary: Cookie`.
import express from 'express'
import { createFloor } from '../lib/floor.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const floor = createFloor(benchSecret())

const app = express()

app.get('/protected', (req, res) => {
  const user = floor(req.headers.cookie, req.socket.remoteAddress, req.headers['user-agent'])
  if (user === null) {
    res.status(401).send('Unauthorized')
    return
  }
  res.setHeader('Vary', 'Cookie')
  res.send(`Logged in as: ${user.id}`)
})

serve(app)
