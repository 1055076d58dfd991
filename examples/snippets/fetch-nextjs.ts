// app/account/route.ts: a Next.js route handler (App Router) behind the login guards.
import { LoginManager, UserMixin } from 'login-manager'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'

// login-manager uses node:crypto: keep the Node.js runtime (the default), not 'edge'.
export const runtime = 'nodejs'

class User extends UserMixin {
  constructor(
    readonly id: string,
    public email: string,
  ) {
    super()
  }
}
const users = new Map([['leafstorm', new User('leafstorm', 'leafstorm@example.com')]]) // your DB

type Route = (request: Request, context?: FetchRequestContext) => Response | Promise<Response>
let routes: { get: Route; patch: Route } | undefined

// Built on the first request, not at import: `next build` imports route modules, and a build
// must not need SESSION_SECRET. A real app keeps the manager in a module of its own (lib/auth.ts)
// that every route file imports.
function account() {
  if (routes !== undefined) return routes
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const login = fetchLogin(
    new LoginManager<User>({
      secret,
      userLoader: (id) => users.get(id) ?? null,
      loginView: '/login',
      refreshView: '/login',
    }),
  )
  routes = {
    get: login.loginRequired(async (_request, auth) =>
      Response.json({ id: auth.user.id, email: auth.user.email }),
    ),
    patch: login.freshLoginRequired(async (request, auth) => {
      const { email } = (await request.json()) as { email?: unknown }
      if (typeof email !== 'string') return Response.json({ error: 'email?' }, { status: 400 })
      auth.user.email = email // your database update
      return Response.json({ id: auth.user.id, email })
    }),
  }
  return routes
}

// Next.js gives a route handler no socket address. On Vercel the platform sets X-Real-IP; behind
// your own proxy, read the header it overwrites, or pass nothing (session protection then hashes
// the User-Agent only).
const client = (request: Request) => ({
  clientAddress: request.headers.get('x-real-ip') ?? undefined,
})

export function GET(request: Request): Response | Promise<Response> {
  return account().get(request, client(request))
}

export function PATCH(request: Request): Response | Promise<Response> {
  return account().patch(request, client(request))
}
