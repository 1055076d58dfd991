import express from 'express'
import { LoginManager } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { loadUser, type User } from '../../examples/basic/users.ts'
import { benchSecret, serve } from '../lib/serve.ts'
const manager = new LoginManager<User>({ secret: benchSecret(), userLoader: loadUser, loginView: '/login', sessionProtection: null })
const login = expressLogin(manager)
const app = express()
app.use(login.middleware)
app.get('/protected', (req, res) => {
  const user = login.auth(req).user
  if (user === null) { res.status(401).send('no'); return }
  res.send(`Logged in as: ${user.id}`)
})
serve(app)
