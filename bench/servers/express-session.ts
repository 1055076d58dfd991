// express-session alone (MemoryStore, `resave: false`, `saveUninitialized: false`): the user id as
// a session value, the session regenerated on login (as a login must, against fixation).
import express from 'express'
import session from 'express-session'
import { checkPassword, loadUser } from '../../examples/basic/users.ts'
import { benchSecret, serve } from '../lib/serve.ts'

declare module 'express-session' {
  interface SessionData {
    userId: string
  }
}

const app = express()
app.use(session({ secret: benchSecret(), resave: false, saveUninitialized: false }))

app.post('/login', express.urlencoded({ extended: false, limit: '10kb' }), (req, res, next) => {
  const user = checkPassword(req.body?.email, req.body?.password)
  if (user === null) {
    res.status(401).send('Bad login')
    return
  }
  req.session.regenerate((error) => {
    if (error) {
      next(error)
      return
    }
    req.session.userId = user.id
    res.send('Logged in')
  })
})

app.get('/protected', (req, res) => {
  const user = req.session.userId === undefined ? null : loadUser(req.session.userId)
  if (user === null) {
    res.status(401).send('Unauthorized')
    return
  }
  res.send(`Logged in as: ${user.id}`)
})

serve(app)
