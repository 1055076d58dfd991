// login-manager on Express: `app.use(login.middleware)`, `login.loginRequired()` on the protected
// route, and the basic example's login route (a form body, the password checked, `loginUser`).
import express from 'express'
import { expressLogin } from 'login-manager/express'
import { checkPassword } from '../../examples/basic/users.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const login = expressLogin(createBenchManager(benchSecret()))

const app = express()
app.use(login.middleware)

app.post(
  '/login',
  express.urlencoded({ extended: false, limit: '10kb' }),
  async (req, res, next) => {
    try {
      const user = checkPassword(req.body?.email, req.body?.password)
      if (user === null) {
        res.status(401).send('Bad login')
        return
      }
      await login.auth(req).loginUser(user)
      res.send('Logged in')
    } catch (error) {
      next(error)
    }
  },
)

app.get('/protected', login.loginRequired(), (req, res) => {
  res.send(`Logged in as: ${login.auth(req).user?.id}`)
})

serve(app)
