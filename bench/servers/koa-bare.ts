// Bare Koa 3: the protected route with no authentication (the baseline), routed by hand as in
// examples/basic/koa.ts.
import Koa from 'koa'
import { announce, HOST, loggedInAs, PORT } from './listen.ts'

const app = new Koa()
app.use(async (ctx, next) => {
  if (ctx.path === '/protected' && ctx.method === 'GET') {
    ctx.type = 'html'
    ctx.body = loggedInAs('leafstorm')
  } else {
    await next()
  }
})

announce(app.listen(PORT, HOST))
