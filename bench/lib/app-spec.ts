// The realistic app every framework serves in `bench/servers/app-<framework>.ts`: ~20 routes (the
// measured one among them, after the others), a body parser, JSON rendering and a static file, so
// that login-manager's share is read at the size of a real app rather than a hello-world.
import { fileURLToPath } from 'node:url'

/** The app's other routes, registered before `/protected`; `:id` is a route parameter. */
export const APP_ROUTES: readonly {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly path: string
}[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/about' },
  { method: 'GET', path: '/pricing' },
  { method: 'GET', path: '/docs' },
  { method: 'GET', path: '/docs/:id' },
  { method: 'GET', path: '/blog' },
  { method: 'GET', path: '/blog/:id' },
  { method: 'GET', path: '/api/projects' },
  { method: 'POST', path: '/api/projects' },
  { method: 'GET', path: '/api/projects/:id' },
  { method: 'PUT', path: '/api/projects/:id' },
  { method: 'DELETE', path: '/api/projects/:id' },
  { method: 'GET', path: '/api/projects/:id/members' },
  { method: 'GET', path: '/api/users/:id' },
  { method: 'GET', path: '/api/search' },
  { method: 'GET', path: '/settings' },
  { method: 'POST', path: '/settings' },
  { method: 'GET', path: '/health' },
]

/** Where the static file is (served under {@link STATIC_PATH}). */
export const STATIC_DIR = fileURLToPath(new URL('../servers/static/', import.meta.url))
export const STATIC_PATH = '/static/app.css'

/** What the other routes answer: enough JSON to be rendered, not measured. */
export const routeAnswer = (path: string, id: string | undefined, body?: unknown) => ({
  route: path,
  id: id ?? null,
  received: body ?? null,
})

/**
 * The protected page's view model, rendered as JSON by every app: a dashboard's worth of data for
 * the user. Its `title` is the text the benchmark checks for.
 */
export function dashboard(userId: string) {
  return {
    title: `Logged in as: ${userId}`,
    user: { id: userId, name: 'Leaf Storm', roles: ['member', 'editor'] },
    projects: Array.from({ length: 10 }, (_, i) => ({
      id: `p${i + 1}`,
      name: `Project ${i + 1}`,
      updatedAt: 1_764_633_600 + i * 3_600,
      open: i % 3 !== 0,
    })),
    notifications: [
      { kind: 'mention', text: 'You were mentioned in Project 2' },
      { kind: 'invite', text: 'Join Project 7' },
    ],
  }
}
