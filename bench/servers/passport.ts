// passport + express-session (MemoryStore): the usual Express answer to the same question.
import express from 'express'
import session from 'express-session'
import passport from 'passport'
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

// LocalStrategy is not installed, and checking a password is not what is measured: log in directly.
app.post('/login', (req, res, next) => {
  req.login(users.get('leafstorm')!, (error) => {
    if (error) next(error)
    else res.send('ok')
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
