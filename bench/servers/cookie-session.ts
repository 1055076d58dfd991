// cookie-session: Express's usual cookie session (the session JSON, base64, in a cookie signed
// with `keys` through the `cookies` package), the user id as a session value.
import cookieSession from 'cookie-session'
import express from 'express'
import { checkPassword, loadUser } from '../../examples/basic/users.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const app = express()
app.use(cookieSession({ name: 'session', keys: [benchSecret()], httpOnly: true, sameSite: 'lax' }))

app.post('/login', express.urlencoded({ extended: false, limit: '10kb' }), (req, res) => {
  const user = checkPassword(req.body?.email, req.body?.password)
  if (user === null) {
    res.status(401).send('Bad login')
    return
  }
  req.session!.userId = user.id
  res.send('Logged in')
})

app.get('/protected', (req, res) => {
  const userId: unknown = req.session?.userId
  const user = typeof userId === 'string' ? loadUser(userId) : null
  if (user === null) {
    res.status(401).send('Unauthorized')
    return
  }
  res.send(`Logged in as: ${user.id}`)
})

serve(app)
