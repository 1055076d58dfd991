// login-manager: the basic example's setup (examples/basic/express.ts) around the protected route.
import express from 'express'
import { expressLogin } from 'login-manager/express'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const manager = createBenchManager(benchSecret())
const login = expressLogin(manager)

const app = express()

app.get(
  '/protected',
  login.loginRequired((req, res) => {
    res.send(`Logged in as: ${req.auth.user.id}`)
  }),
)

serve(app)
