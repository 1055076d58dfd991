// The floor's Fetch handler, shared by fetch-floor.ts and its ablation fetch-floor-wrapped.ts:
// the guard's work inline (floor.ts), headers and the client address from the Node request
// @hono/node-server passes; `page` builds the logged-in page with its `Vary`.
import type { Http2Bindings, HttpBindings } from '@hono/node-server'
import { loggedInAs } from '../servers/listen.ts'
import { createFloor } from './floor.ts'

const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })

export function floorFetchHandler(
  secret: string,
  page: (body: string) => Response,
): (request: Request, context: HttpBindings | Http2Bindings) => Response {
  const floor = createFloor(secret)
  return (request, context) => {
    if (new URL(request.url).pathname !== '/protected') return text('Not Found', 404)
    const { headers, socket } = context.incoming
    const user = floor(headers.cookie, socket.remoteAddress, headers['user-agent'])
    if (user === null) return text('Unauthorized', 401)
    return page(loggedInAs(user.id))
  }
}
