// login-manager on Koa: the basic example's setup (examples/basic/koa.ts) around the protected
// route: `app.use(login.middleware)` and the `login.loginRequired()` guard.
import Koa from 'koa'
import { type AuthState, koaLogin } from 'login-manager/koa'
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
  } else {
    await next()
  }
})

announce(app.listen(PORT, HOST))
