// Ablation: login-manager on Express with no global middleware: the guard wraps the handler
// (`login.loginRequired(handler)`, one route layer as in bare Express), and `login.middleware`
// sits only on the login route. Compare with `login-manager.ts` to see what the two extra
// Express layers of the usual setup cost.
import express from 'express'
import { expressLogin } from 'login-manager/express'
import { checkPassword } from '../../examples/basic/users.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const login = expressLogin(createBenchManager(benchSecret()))

const app = express()

app.post(
  '/login',
  login.middleware,
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

app.get(
  '/protected',
  login.loginRequired((req, res) => {
    res.send(`Logged in as: ${req.auth.user.id}`)
  }),
)

serve(app)
