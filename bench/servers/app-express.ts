// The realistic app on Express (bench/lib/app-spec.ts): a router with ~20 routes, JSON and form
// body parsers, JSON rendering and a static file. With BENCH_LOGIN=1, login-manager as an app
// would add it: `app.use(login.middleware)` and `login.loginRequired()` on the protected route.
import express, { type Request } from 'express'
import { expressLogin } from 'login-manager/express'
import { APP_ROUTES, dashboard, routeAnswer, STATIC_DIR } from '../lib/app-spec.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const withLogin = process.env.BENCH_LOGIN === '1'
const login = withLogin ? expressLogin(createBenchManager(benchSecret())) : null

const app = express()
app.use('/static', express.static(STATIC_DIR))
app.use(express.json({ limit: '100kb' }))
app.use(express.urlencoded({ extended: false, limit: '10kb' }))
if (login !== null) app.use(login.middleware)

const router = express.Router()
for (const { method, path } of APP_ROUTES) {
  const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'
  router[verb](path, (req, res) => {
    res.json(routeAnswer(path, req.params.id as string | undefined, req.body))
  })
}
const userIdOf = (req: Request) => (login === null ? 'leafstorm' : login.auth(req).user?.id)
const guard = login === null ? [] : [login.loginRequired()]
router.get('/protected', ...guard, (req, res) => {
  res.json(dashboard(String(userIdOf(req))))
})
app.use(router)

serve(app)
