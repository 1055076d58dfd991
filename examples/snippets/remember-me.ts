// Remember-me: per-login durations, sliding expiry, and "log out everywhere" with sessionVersion.
import express from 'express'
import { LoginManager, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class Member extends UserMixin {
  constructor(
    readonly id: string,
    public sessionVersion = 1, // bump it to revoke every session and remember cookie
  ) {
    super()
  }
}

const DAY = 24 * 3600 // every duration is in seconds

export function createApp(members: Map<string, Member>) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<Member>({
    secret,
    userLoader: (id) => members.get(id) ?? null,
    // Stored in each session and remember token at login; checked when they are used.
    sessionVersion: (member) => member.sessionVersion,
    remember: {
      duration: 14 * DAY, // default for remembered logins (the default is 30 days)
      refreshEachRequest: true, // sliding: each visit that uses the session extends it
    },
  })
  manager.on('userLoadedFromCookie', ({ user }) => console.log(`${user.id} is back`))

  const login = expressLogin(manager)
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(login.middleware)

  app.post('/login/:id', async (req, res, next) => {
    try {
      const member = members.get(req.params.id) // (check a password here)
      if (member === undefined) {
        res.sendStatus(401)
        return
      }
      const auth = login.auth(req)
      await auth.loginUser(member, {
        remember: req.body?.remember === 'on',
        // A shorter life on a computer the member says is shared.
        ...(req.body?.shared === 'on' ? { duration: 1 * DAY } : {}),
      })
      res.redirect(303, auth.nextUrl('/'))
    } catch (error) {
      next(error)
    }
  })

  app.get(
    '/whoami',
    login.loginRequired(async (req, res) => {
      const auth = req.auth
      res.json({
        id: auth.user.id,
        fresh: await auth.isFresh(), // false after a remember-me restore
        remembered: await auth.isRemembered(), // this request carries the user's remember cookie
      })
    }),
  )

  // After a password change, or when a device is lost.
  app.post(
    '/logout-everywhere',
    login.loginRequired(async (req, res) => {
      req.auth.user.sessionVersion += 1 // persist this in your database
      await req.auth.logoutUser() // this browser too, and its remember cookie
      res.sendStatus(204)
    }),
  )

  return app
}
