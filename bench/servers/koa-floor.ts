// The floor on Koa (routed by hand, as koa-bare.ts): the guard's work inline (bench/lib/floor.ts),
// then `Vary: Cookie`.
import Koa from 'koa'
import { createFloor } from '../lib/floor.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const floor = createFloor(benchSecret())

const app = new Koa()
app.use(async (ctx, next) => {
  if (ctx.path === '/protected' && ctx.method === 'GET') {
    const { headers, socket } = ctx.req
    const user = floor(headers.cookie, socket.remoteAddress, headers['user-agent'])
    if (user === null) {
      ctx.status = 401
      ctx.body = 'Unauthorized'
      return
    }
    ctx.vary('Cookie')
    ctx.type = 'html'
    ctx.body = loggedInAs(user.id)
  } else {
    await next()
  }
})

announce(app.listen(PORT, HOST))
