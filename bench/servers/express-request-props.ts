// Ablation: bare Express 5 plus two properties added to each request (a symbol and `req.auth`),
// as login-manager's middleware adds them, and nothing else. What adding properties to Express's
// request costs: Express swaps each request's prototype first, and V8 then builds new object
// shapes for the additions.
import express from 'express'
import { serve } from '../lib/serve.ts'

const SLOT = Symbol('slot')
type Extended = express.Request & { [SLOT]?: object; auth?: object }

const app = express()

app.get('/protected', (req, res) => {
  const value = { id: 'leafstorm' }
  ;(req as Extended)[SLOT] = value
  ;(req as Extended).auth = value
  res.send('Logged in as: leafstorm')
})

serve(app)
