// login-manager on Koa: the basic example's setup (examples/basic/koa.ts): `app.use(login.middleware)`,
// the `login.loginRequired()` guard on the protected route, and the login route (a form body, the
// password checked, `loginUser`).
import Koa from 'koa'
import { type AuthState, koaLogin } from 'login-manager/koa'
import { checkPassword } from '../../examples/basic/users.ts'
import { readForm } from '../lib/form.ts'
import { createBenchManager, type User } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const login = koaLogin(createBenchManager(benchSecret()))
const requireLogin = login.loginRequired()

const app = new Koa<AuthState<User>>()
app.use(login.middleware)
app.use(async (ctx, next) => {
  const { auth } = ctx.state
  if (ctx.path === '/protected' && ctx.method === 'GET') {
    await requireLogin(ctx as never, async () => {
      ctx.type = 'html'
      ctx.body = loggedInAs((await auth.getUser())?.id ?? '')
    })
  } else if (ctx.path === '/login' && ctx.method === 'POST') {
    const form = await readForm(ctx.req)
    const user = checkPassword(form.get('email'), form.get('password'))
    if (user === null) {
      ctx.status = 401
      ctx.body = 'Bad login'
      return
    }
    await auth.loginUser(user)
    ctx.body = 'Logged in'
  } else {
    await next()
  }
})

announce(app.listen(PORT, HOST))
