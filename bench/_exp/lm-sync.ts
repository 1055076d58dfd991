import express from 'express'
import { expressLogin } from 'login-manager/express'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { benchSecret, serve } from '../lib/serve.ts'
const manager = createBenchManager(benchSecret())
const login = expressLogin(manager)
const app = express()
app.use(login.middleware)
app.get('/protected', (req, res) => {
  const user = login.auth(req).user
  if (user === null) {
    res.status(401).send('no')
    return
  }
  res.send(`Logged in as: ${user.id}`)
})
serve(app)
