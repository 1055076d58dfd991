// koa-session: Koa's usual session (the session JSON, base64, in a cookie signed with `app.keys`
// through the `cookies` package), the user id as a session value.
import Koa from 'koa'
import session from 'koa-session'
import { checkPassword, loadUser } from '../../examples/basic/users.ts'
import { readForm } from '../lib/form.ts'
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
    const form = await readForm(ctx.req)
    const user = checkPassword(form.get('email'), form.get('password'))
    if (user === null) {
      ctx.status = 401
      ctx.body = 'Bad login'
      return
    }
    ctx.session!.userId = user.id
    ctx.body = 'Logged in'
  } else {
    await next()
  }
})

announce(app.listen(PORT, HOST))
