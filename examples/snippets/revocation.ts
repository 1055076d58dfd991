// Ending sessions: log out other devices, log out everywhere, list and revoke sessions,
// the password-change recipe, and reacting to a stolen remember-me cookie.
import express from 'express'
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    public password: string, // a real app keeps a hash (scrypt, argon2)
    public sessionVersion = 1,
  ) {
    super()
  }
}

export function createApp(
  users: Map<string, User>,
  options: { store?: SessionStore; now?: () => number } = {}, // now: tests move the clock
) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    // Works with cookie sessions too: a new version ends every older session and token.
    sessionVersion: (user) => user.sessionVersion,
    session: { store: options.store },
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  // A remember-me cookie was used twice: someone copied it. login-manager has already ended the
  // sessions restored from it and revoked every remember-me token; end the rest too, and tell them.
  manager.on('rememberTokenReused', ({ userId }) => {
    manager.logoutEverywhere(String(userId)).catch((error) => console.error(error))
  })

  const login = expressLogin(manager)
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(login.middleware)

  app.post('/login', async (req, res, next) => {
    try {
      const user = users.get(String(req.body?.name))
      if (user === undefined || user.password !== req.body?.password) {
        res.sendStatus(401)
        return
      }
      await login.auth(req).loginUser(user, { remember: req.body?.remember === 'on' })
      res.sendStatus(204)
    } catch (error) {
      next(error)
    }
  })

  app.get(
    '/whoami',
    login.loginRequired((req, res) => {
      res.json({ id: req.auth.user.id })
    }),
  )

  // "Your devices": every session of this user (server-side sessions only).
  app.get(
    '/sessions',
    login.loginRequired(async (req, res) => {
      res.json(await manager.listSessions(req.auth.user.id)) // [{ handle, createdAt, lastActive }]
    }),
  )

  app.post(
    '/sessions/:handle/revoke',
    login.loginRequired(async (req, res) => {
      const ended = await manager.revokeSession(req.auth.user.id, String(req.params.handle))
      res.sendStatus(ended ? 204 : 404)
    }),
  )

  // The password-change recipe: this device stays logged in, every other one is logged out.
  app.post(
    '/password',
    login.freshLoginRequired(async (req, res) => {
      const user = req.auth.user
      user.password = String(req.body?.password) // save the new hash in your database
      if (manager.options.session.store !== undefined) {
        await req.auth.logoutOtherDevices() // store sessions: end the others now
      } else {
        // Cookie sessions: a new version revokes every session, this one included, so log
        // this device in again with the new version (keeping its remember-me choice).
        const remember = await req.auth.isRemembered()
        user.sessionVersion += 1 // save it in your database
        await req.auth.loginUser(user, { remember })
      }
      res.sendStatus(204)
    }),
  )

  app.post(
    '/logout-everywhere',
    login.loginRequired(async (req, res) => {
      await req.auth.logoutEverywhere() // every device, this one included
      res.sendStatus(204)
    }),
  )

  return app
}
