// login-manager: the basic example's protected route (as servers/login-manager.ts), on the build
// in BENCH_LIB (a dist/ directory; this repository's by default), so that two builds can be
// measured side by side. BENCH_REVOKED=<n> first fills the revocation list with n ended ids
// (builds that have one), as a busy app's list would be.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import express from 'express'
import { loadUser, type User } from '../../examples/basic/users.ts'
import { benchSecret, serve } from '../lib/serve.ts'

const lib = process.env.BENCH_LIB ?? fileURLToPath(new URL('../../dist', import.meta.url))
const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(lib, path)).href)
const { LoginManager } = await load<typeof import('login-manager')>('index.js')
const { expressLogin } = await load<typeof import('login-manager/express')>('adapters/express.js')

const manager = new LoginManager<User>({
  secret: benchSecret(),
  userLoader: loadUser,
  loginView: '/login',
})
const revoked = Number(process.env.BENCH_REVOKED ?? 0)
const list = (manager as { _revocations?: { revoke(id: string, expiresAt: number): void } })
  ._revocations
if (revoked > 0) {
  if (list === undefined)
    throw new Error(`BENCH_REVOKED: the build in ${lib} has no revocation list`)
  const until = Math.floor(Date.now() / 1000) + 12 * 3600
  for (let i = 0; i < revoked; i++)
    list.revoke(randomBytes(16).toString('base64url'), until - (i % 43_200))
}
const login = expressLogin(manager)

const app = express()
app.use(login.middleware)

app.get('/protected', login.loginRequired(), (req, res) => {
  res.send(`Logged in as: ${login.auth(req).user?.id}`)
})

serve(app)
