// koa-session: Koa's usual session (the session JSON, base64, in a cookie signed with `app.keys`
// through the `cookies` package), the user id as a session value.
import Koa from 'koa'
import session from 'koa-session'
import { loadUser } from '../../examples/basic/users.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const app = new Koa()
app.keys = [benchSecret()]
// Plain HTTP here: a `secure` cookie could not be set.
app.use(session({ signed: true, httpOnly: true, sameSite: 'lax', secure: false }, app))
app.use(async (ctx, next) => {
  if (ctx.path === '/protected' && ctx.method === 'GET') {
    const userId: unknown = ctx.session?.userId
    const user = typeof userId === 'string' ? loadUser(userId) : null
    if (user === null) {
      ctx.status = 401
      ctx.body = 'Unauthorized'
      return
    }
    ctx.type = 'html'
    ctx.body = loggedInAs(user.id)
  } else if (ctx.path === '/login' && ctx.method === 'POST') {
    // Checking a password is not what is measured: log in directly.
    ctx.session!.userId = 'leafstorm'
    ctx.body = 'ok'
  } else {
    await next()
  }
})

announce(app.listen(PORT, HOST))
