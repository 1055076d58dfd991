// The session bag: app data, flash messages, a "keep me signed in" session, key rotation.
import express from 'express'
import { LoginManager, type UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export function createApp(loadUser: (id: string) => UserMixin | null) {
  const current = process.env.SESSION_SECRET
  if (current === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  // Rotation: the first secret seals, every listed one opens. Cookies sealed with the old one
  // are re-sealed with the new one on their next use; drop OLD_SESSION_SECRET after a while.
  const old = process.env.OLD_SESSION_SECRET
  const manager = new LoginManager<UserMixin>({
    secret: old === undefined ? current : [current, old],
    userLoader: loadUser,
    session: {
      idleTimeout: 30 * 60, // seconds without a request before the session is refused
      absoluteTimeout: 8 * 3600, // seconds after login, however active
    },
  })
  // Bad, tampered, foreign or expired cookies never throw: the request is anonymous.
  manager.on('cookieRejected', ({ auth, cookie, reason }) => {
    console.warn(`ignored ${cookie} cookie from ${auth.request.clientAddress}: ${reason}`)
  })

  const login = expressLogin(manager)
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(login.middleware)

  app.post('/cart', (req, res) => {
    const session = login.auth(req).session
    const cart = (session.get('cart') as string[] | undefined) ?? []
    cart.push(String(req.body?.item))
    if (session.has('cart')) {
      session.markModified() // the array was changed in place: say so
    } else {
      session.set('cart', cart)
    }
    session.flash(`Added ${cart.length === 1 ? 'one item' : `${cart.length} items`}`, 'success')
    res.redirect(303, '/cart')
  })

  app.get('/cart', (req, res) => {
    const auth = login.auth(req)
    res.json({
      cart: auth.session.get('cart') ?? [],
      keys: auth.session.keys(),
      messages: auth.consumeFlashes('success').map((f) => f.message),
    })
  })

  app.post('/cart/clear', (req, res) => {
    login.auth(req).session.delete('cart') // absent key: nothing changes, no Set-Cookie
    res.redirect(303, '/cart')
  })

  app.post('/keep-me-signed-in', (req, res) => {
    // A permanent session survives a browser restart (until its idle or absolute timeout);
    // a normal one ends with the browser session.
    login.auth(req).session.permanent = true
    res.sendStatus(204)
  })

  app.post('/forget-me', (req, res) => {
    login.auth(req).session.clear() // data, flashes and the login
    res.sendStatus(204)
  })

  return app
}
