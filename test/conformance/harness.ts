/**
 * The framework-neutral description of a test app, and the contract every adapter harness
 * implements. A scenario builds an {@link AppSpec} (a manager plus routes); each harness turns it
 * into a real server of its framework, using that adapter's own middleware, guards and outcome
 * renderer. Adding an adapter to the suite = one file in `./adapters/` plus one entry in
 * `./adapters/index.ts`.
 *
 * @module
 */
import { type AuthOutcome, isAuthOutcome, type LoginManager, type RequestAuth } from 'login-manager'
import { TestClient, type TestClientOptions } from '../support/client.ts'

/**
 * The id type of a manager the harness serves. Scenarios use different `Id` types and the
 * harness never reads ids, so it accepts any.
 */
// biome-ignore lint/suspicious/noExplicitAny: managers differ in their Id type (contravariant loaders); the harness never reads ids
export type AnyId = any

/** What a route handler receives. */
export interface RouteContext<U extends object> {
  /** The adapter's per-request auth object. */
  auth: RequestAuth<U, AnyId>
  /** The first value of a query parameter, parsed by the framework; null when absent. */
  query(name: string): string | null
  /** The urlencoded request body, parsed by the framework's usual parser (first value per key). */
  form: Record<string, string>
}

/**
 * What a route handler returns:
 * - a string: a 200 `text/plain` body;
 * - `{ status, body, headers }`: that response (text/plain unless a content-type is given);
 * - an {@link AuthOutcome} (from `auth.unauthorized()`, `auth.needsRefresh()`, `redirect()`,
 *   `respond()`): rendered by the adapter's own outcome renderer.
 */
export type RouteResult =
  | string
  | { status?: number; body?: string; headers?: Record<string, string> }
  | AuthOutcome

/** One route of a test app. */
export interface RouteDef<U extends object> {
  /** @default 'GET' ('ALL' matches every method) */
  method?: 'GET' | 'POST' | 'OPTIONS' | 'ALL'
  /** An exact path, no parameters. */
  path: string
  /** Protect the route with the adapter's own guard: `loginRequired` or `freshLoginRequired`. */
  guard?: 'login' | 'fresh'
  /**
   * Send the result (a string or `{ status, headers, body }`) as a streamed body, with the
   * framework's own idiom for streaming: where the framework lets a handler send its headers
   * before the body is done (Express `res.write()`, Koa `ctx.flushHeaders()`), the headers and
   * the first half of the body go out at once and the rest follows after a pause; elsewhere the
   * body is a stream that the server starts sending once the handler's response is complete.
   */
  stream?: boolean
  /** Runs after the guard; an exception becomes the framework's own 500 response. */
  handler: (ctx: RouteContext<U>) => RouteResult | Promise<RouteResult>
}

/** A streamed route's result: status, headers and the body's two halves. */
export interface StreamedResult {
  status: number
  headers: Record<string, string>
  parts: [string, string]
}

/** What a `stream: true` route sends; an {@link AuthOutcome} is not streamed, so it is a test error. */
export function streamedResult(result: RouteResult): StreamedResult {
  if (isAuthOutcome(result)) throw new TypeError('a stream route returns a string or a response')
  const { status = 200, headers = {}, body = '' } = typeof result === 'string' ? {} : result
  const text = typeof result === 'string' ? result : body
  const half = Math.ceil(text.length / 2)
  return { status, headers, parts: [text.slice(0, half), text.slice(half)] }
}

/** How long a streamed body pauses between its halves, in ms. */
export const STREAM_PAUSE = 30

/** A whole test app. */
export interface AppSpec<U extends object> {
  manager: LoginManager<U, AnyId>
  routes: RouteDef<U>[]
  /**
   * Response headers set by a middleware that runs before login-manager's, the way a CORS
   * middleware sets its `Access-Control-*` headers and passes the request on; each harness uses
   * its framework's own idiom. A Fetch server has no middleware: there a wrapper around the whole
   * handler adds them to the Response it returns.
   */
  earlyHeaders?: Record<string, string>
}

/** A running test server. */
export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string
  /** Stops the server and drops its connections. */
  close(): Promise<void>
}

/**
 * Serves an {@link AppSpec} with one framework. Requirements:
 * - listen on 127.0.0.1, port 0;
 * - install the adapter's middleware/plugin for `spec.manager` before any route; when the adapter
 *   refuses the manager (e.g. no user loader), `start` rejects with that error and leaves nothing
 *   listening;
 * - parse urlencoded bodies with the framework's usual parser;
 * - `guard` uses the adapter's own guard API; an `AuthOutcome` result uses its own renderer;
 * - a thrown handler error gives the framework's default 500 (without logging to the console);
 * - an unknown path gives a 404 (the client turns it into a test failure).
 */
export interface AdapterHarness {
  readonly name: string
  /**
   * Whether a `stream: true` route's headers reach the client before login-manager's store writes
   * settle (the framework lets the handler flush them early). Otherwise the response is handed to
   * the server whole, after the writes, and a failed write can still replace it.
   */
  readonly streamSendsHeadersFirst?: boolean
  /**
   * Whether `earlyHeaders` are added by a wrapper to whatever response comes out (a Fetch server
   * has no middleware), login-manager's own answers included, rather than set before it runs.
   */
  readonly earlyHeadersWrapResponse?: boolean
  start<U extends object>(spec: AppSpec<U>): Promise<RunningApp>
}

/**
 * Starts `spec` with `adapter`, runs `body` with a fresh client, and always closes the server.
 *
 * @example
 * ```ts
 * await withApp(adapter, spec, async (client) => {
 *   assert.equal((await client.get('/username')).body, 'Anonymous')
 * })
 * ```
 */
export async function withApp<U extends object>(
  adapter: AdapterHarness,
  spec: AppSpec<U>,
  body: (client: TestClient) => Promise<void>,
  clientOptions?: TestClientOptions,
): Promise<void> {
  const app = await adapter.start(spec)
  try {
    await body(new TestClient(app.baseUrl, clientOptions))
  } finally {
    await app.close()
  }
}
