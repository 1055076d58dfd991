// Ablation: bare Express 5 plus the two middleware layers login-manager's usual setup adds
// (`app.use(...)` and a route-level guard before the handler), both doing nothing but `next()`.
// What those layers cost Express itself, apart from any work in them.
import express from 'express'
import { serve } from '../lib/serve.ts'

const app = express()
app.use((_req, _res, next) => next())

app.get(
  '/protected',
  (_req, _res, next) => next(),
  (_req, res) => {
    res.send('Logged in as: leafstorm')
  },
)

serve(app)
