// passport + express-session (MemoryStore): the usual Express answer to the same question.
import express from 'express'
import session from 'express-session'
import passport from 'passport'
import { checkPassword } from '../../examples/basic/users.ts'
import { benchSecret, serve } from '../lib/serve.ts'

interface BenchUser {
  id: string
}

const users = new Map<string, BenchUser>([['leafstorm', { id: 'leafstorm' }]])

passport.serializeUser((user, done) => {
  done(null, (user as BenchUser).id)
})
passport.deserializeUser((id: string, done) => {
  done(null, users.get(id) ?? false)
})

const app = express()
app.use(session({ secret: benchSecret(), resave: false, saveUninitialized: false }))
app.use(passport.initialize())
app.use(passport.session())

// The password checked by hand, as LocalStrategy would: passport-local is not installed.
app.post('/login', express.urlencoded({ extended: false, limit: '10kb' }), (req, res, next) => {
  const user = checkPassword(req.body?.email, req.body?.password)
  if (user === null) {
    res.status(401).send('Bad login')
    return
  }
  req.login(users.get(user.id)!, (error) => {
    if (error) next(error)
    else res.send('Logged in')
  })
})

app.get('/protected', (req, res) => {
  if (!req.isAuthenticated()) {
    res.status(401).send('Unauthorized')
    return
  }
  res.send(`Logged in as: ${(req.user as BenchUser).id}`)
})

serve(app)
