import express, { type Response } from 'express'
import type { SessionStore } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { accountRoutes, createManager, type Form, type Reply } from './routes.ts'

function send(res: Response, reply: Reply): void {
  if ('redirect' in reply) res.redirect(303, reply.redirect)
  else
    res
      .status(reply.status ?? 200)
      .type('html')
      .send(reply.html)
}

/** The account example on Express. */
export function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = createManager(secret, store)
  const login = expressLogin(manager)

  const app = express()
  app.use(express.urlencoded({ extended: false, limit: '10kb' }))
  // The middleware (rather than install) loads a store session before every handler.
  app.use(login.middleware)
  app.get('/style.css', (_req, res) => {
    res.type('css').send(stylesheet)
  })

  for (const route of accountRoutes(manager)) {
    const form = (body: unknown): Form => (body ?? {}) as Form
    const handler =
      route.guard === undefined
        ? async (req: express.Request, res: Response, next: express.NextFunction) => {
            try {
              send(res, await route.run(login.auth(req), form(req.body)))
            } catch (error) {
              next(error)
            }
          }
        : (route.guard === 'fresh' ? login.freshLoginRequired : login.loginRequired)(
            async (req, res) => send(res, await route.run(req.auth, form(req.body))),
          )
    if (route.method === 'GET') app.get(route.path, handler)
    else app.post(route.path, handler)
  }
  return app
}
