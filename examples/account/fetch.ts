import type { SessionStore } from 'login-manager'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { accountRoutes, createManager, type Form, type Reply } from './routes.ts'

function render(reply: Reply): Response {
  return 'redirect' in reply
    ? new Response(null, { status: 303, headers: { location: reply.redirect } })
    : new Response(reply.html, {
        status: reply.status ?? 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
      })
}

async function formOf(request: Request): Promise<Form> {
  if (request.method !== 'POST') return {}
  return Object.fromEntries(new URLSearchParams((await request.text()).slice(0, 10_240)))
}

type Handler = (request: Request, context?: FetchRequestContext) => Response | Promise<Response>

/** The account example as one `(Request) => Response` function (Bun, Deno, Node, Next.js). */
export function createHandler(secret = exampleSecret(), store?: SessionStore): Handler {
  const manager = createManager(secret, store)
  const login = fetchLogin(manager)
  const handlers = new Map<string, Handler>()
  for (const route of accountRoutes(manager)) {
    const handler =
      route.guard === undefined
        ? login.handle(async (request, auth) =>
            render(await route.run(auth, await formOf(request))),
          )
        : (route.guard === 'fresh' ? login.freshLoginRequired : login.loginRequired)(
            async (request, auth) => render(await route.run(auth, await formOf(request))),
          )
    handlers.set(`${route.method} ${route.path}`, handler)
  }
  const css = () =>
    new Response(stylesheet, { headers: { 'content-type': 'text/css; charset=utf-8' } })
  return (request, context) => {
    const key = `${request.method} ${new URL(request.url).pathname}`
    if (key === 'GET /style.css') return css()
    const handler = handlers.get(key)
    return handler === undefined
      ? new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } })
      : handler(request, context)
  }
}
