import express from 'express'
import { serve } from '../lib/serve.ts'
const app = express()
app.get('/protected', (_req, res) => {
  Promise.resolve().then(() => res.send('Logged in as: leafstorm'))
})
serve(app)
