// Bare Express 5: the protected route with no authentication at all (the baseline).
import express from 'express'
import { serve } from '../lib/serve.ts'

const app = express()

app.get('/protected', (_req, res) => {
  res.send('Logged in as: leafstorm')
})

serve(app)
