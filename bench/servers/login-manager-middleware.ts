// login-manager on Express with the middleware layout: `app.use(login.middleware)` instead of
// `login.install(app)`. Measured beside login-manager.ts to show what the extra layer costs.
import express from 'express'
import { expressLogin } from 'login-manager/express'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const manager = createBenchManager(benchSecret())
const login = expressLogin(manager)

const app = express()
app.use(login.middleware)

app.get(
  '/protected',
  login.loginRequired((req, res) => {
    res.send(`Logged in as: ${req.auth.user.id}`)
  }),
)

serve(app)
