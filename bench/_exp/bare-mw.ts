import express from 'express'
import { serve } from '../lib/serve.ts'
const app = express()
app.use((_req, _res, next) => next())
app.get('/protected', (_req, res) => {
  res.send('Logged in as: leafstorm')
})
serve(app)
