import { ServerResponse } from 'node:http'
import { addVaryCookie, rawHeader } from './headers.ts'

export { addVaryCookie, rawHeader }

import type { ResponseEffects } from '../core/auth.ts'
import { cacheControlFor } from '../core/cache-control.ts'
import { encodeLocation } from '../core/next-url.ts'
import type { AuthOutcome } from '../core/outcome.ts'

/** What the Node-based adapters need from the auth object. */
export interface Committable {
  commit(status: number): ResponseEffects | null
}

/** Finds the auth object of a response (through its request), if it has one. */
export type AuthLookup = (res: ServerResponse) => Committable | undefined

/**
 * For server-side sessions: holds `res.end` until the session store has the writes of this
 * request, so the browser's next request cannot overtake them. If a write failed and nothing has
 * been sent yet, the response becomes a 503 instead.
 */
export function holdEndForStore(res: ServerResponse, auth: Committable): void {
  const end = res.end
  res.end = function endAfterStore(this: ServerResponse, ...args: unknown[]) {
    res.end = end
    return endAfterWrites(this, auth, end as EndFunction, args)
  } as ServerResponse['end']
}

type EndFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse

/** `res.end(...args)` once `auth`'s store writes are done (see {@link holdEndForStore}). */
function endAfterWrites(
  res: ServerResponse,
  auth: Committable,
  end: EndFunction,
  args: unknown[],
): ServerResponse {
  const finish = () => end.apply(res, args)
  if (res.headersSent) return finish()
  const effects = auth.commit(res.statusCode)
  if (effects === null) return finish()
  applyEffects(res, effects)
  if (effects.pending === undefined) return finish()
  effects.pending.then((failure) => {
    if (failure === null || res.headersSent) {
      finish()
      return
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name)
    sendOutcome(res, failure)
  })
  return res
}

/**
 * Applies the auth object's cookies and cache headers at the last moment before a Node response
 * sends its headers, whichever way the app ends the response (`res.end`, `res.send`, a stream).
 */
export function applyBeforeHeaders(res: ServerResponse, auth: Committable): void {
  const original = res.writeHead
  res.writeHead = function writeHeadWithAuth(this: ServerResponse, ...args: unknown[]) {
    // Restore first: an error thrown below (an oversized cookie) must not run this twice.
    res.writeHead = original
    commitBeforeWriteHead(res, auth, args)
    return (original as (...a: unknown[]) => ServerResponse).apply(this, args)
  } as ServerResponse['writeHead']
}

type Method = (this: ServerResponse, ...args: unknown[]) => ServerResponse
const hooked = new WeakMap<object, Set<symbol>>()

/**
 * Wraps `method` of a response prototype once per prototype and key (one key per method; `wrap` receives the
 * method it replaces). Returns `'new'` when it hooked now, `'done'` when it already had, `false`
 * when it cannot (no such method, or the shared `ServerResponse.prototype`, which would touch
 * every response of the process).
 */
function hookPrototype(
  proto: object,
  method: 'writeHead' | 'end',
  key: symbol,
  wrap: (original: Method) => Method,
): 'new' | 'done' | false {
  if (proto === (ServerResponse.prototype as object)) return false
  const target = proto as Record<string, unknown>
  const keys = hooked.get(proto)
  if (keys?.has(key) === true) return 'done'
  if (typeof target[method] !== 'function') return false
  target[method] = wrap(target[method] as Method)
  if (keys === undefined) hooked.set(proto, new Set([key]))
  else keys.add(key)
  return 'new'
}

/**
 * Hooks `method` on `res`'s own prototype (Express gives every app one, between the response and
 * `ServerResponse.prototype`): much cheaper than patching each response, and nothing is stored
 * on the response. False when that cannot work for this response: no such prototype (a bare
 * `node:http` response), or the hook was added just now while the response already carries its
 * own `method` patched by some other middleware (which may have captured the unhooked one); the
 * caller then patches the response itself.
 */
function hookResponse(
  res: ServerResponse,
  method: 'writeHead' | 'end',
  key: symbol,
  wrap: (original: Method) => Method,
): boolean {
  const proto = Object.getPrototypeOf(res) as object | null
  if (proto === null) return false
  const result = hookPrototype(proto, method, key, wrap)
  return result === 'done' || (result === 'new' && !Object.hasOwn(res, method))
}

/** Commits `auth` and applies its effects, before the `writeHead(...args)` call they precede. */
function commitBeforeWriteHead(res: ServerResponse, auth: Committable, args: unknown[]): void {
  const status = typeof args[0] === 'number' ? args[0] : res.statusCode
  const effects = auth.commit(status)
  if (effects !== null) applyEffects(res, effects, args)
}

// commit() answers only once, so a hook that runs again (a retry after an error thrown while
// applying, such as an oversized cookie; a second end) applies nothing more.
type Wrap = (original: Method) => Method
// Built once per lookup (per adapter instance), not per request.
const writeHeadHooks = new WeakMap<AuthLookup, Wrap>()
const endHooks = new WeakMap<AuthLookup, Wrap>()
const once = (
  cache: WeakMap<AuthLookup, Wrap>,
  lookup: AuthLookup,
  make: (l: AuthLookup) => Wrap,
) => {
  let wrap = cache.get(lookup)
  if (wrap === undefined) {
    wrap = make(lookup)
    cache.set(lookup, wrap)
  }
  return wrap
}

const writeHeadHook =
  (lookup: AuthLookup) =>
  (original: Method): Method =>
    function writeHeadWithAuth(this: ServerResponse, ...args: unknown[]) {
      const auth = lookup(this)
      if (auth !== undefined) commitBeforeWriteHead(this, auth, args)
      return original.apply(this, args)
    }

const endHook =
  (lookup: AuthLookup) =>
  (original: Method): Method =>
    function endAfterStore(this: ServerResponse, ...args: unknown[]) {
      const auth = lookup(this)
      return auth === undefined
        ? original.apply(this, args)
        : endAfterWrites(this, auth, original, args)
    }

/** Hooks `writeHead` on a response prototype (see {@link hookResponse}) for `lookup`'s auth objects. */
export function hookWriteHeadPrototype(proto: object, key: symbol, lookup: AuthLookup) {
  return hookPrototype(proto, 'writeHead', key, once(writeHeadHooks, lookup, writeHeadHook))
}

/** Hooks `end` on a response prototype, for store sessions (see {@link holdEndForStore}). */
export function hookEndPrototype(proto: object, key: symbol, lookup: AuthLookup) {
  return hookPrototype(proto, 'end', key, once(endHooks, lookup, endHook))
}

/**
 * Arranges for the effects of the auth object `lookup` finds for a response to be applied right
 * before it sends its headers, through a `writeHead` hook on its prototype (see
 * {@link hookResponse}); false when the caller must use {@link applyBeforeHeaders}.
 */
export function hookWriteHead(res: ServerResponse, key: symbol, lookup: AuthLookup): boolean {
  return hookResponse(res, 'writeHead', key, once(writeHeadHooks, lookup, writeHeadHook))
}

/** {@link holdEndForStore} through the response's prototype; false when the caller must patch `res`. */
export function hookEndForStore(res: ServerResponse, key: symbol, lookup: AuthLookup): boolean {
  return hookResponse(res, 'end', key, once(endHooks, lookup, endHook))
}

/**
 * Appends the cookies and sets `Vary` / `Cache-Control` (as {@link cacheControlFor} says) on a
 * Node response. With the arguments of
 * a `writeHead` call about to run, headers given there as an object are moved onto the response
 * first (as Node would merge them), so that they cannot replace the cookies or `Vary` set here.
 */
export function applyEffects(
  res: ServerResponse,
  effects: ResponseEffects,
  writeHeadArgs?: unknown[],
): void {
  if (writeHeadArgs !== undefined) moveWriteHeadHeaders(res, writeHeadArgs)
  if (effects.cookies.length > 0) {
    const previous = res.getHeader('set-cookie')
    res.setHeader(
      'set-cookie',
      previous === undefined
        ? effects.cookies
        : [...(Array.isArray(previous) ? previous : [String(previous)]), ...effects.cookies],
    )
  }
  if (effects.vary) {
    const vary = res.getHeader('vary')
    const next = addVaryCookie(vary === undefined ? undefined : String(vary))
    if (next !== undefined) res.setHeader('vary', next)
  }
  const cacheControl = cacheControlFor(effects, res.getHeader('cache-control'))
  if (cacheControl !== undefined) res.setHeader('cache-control', cacheControl)
}

/** `writeHead(status, [message], headers)`: an object of headers, set on `res` and dropped from `args`. */
function moveWriteHeadHeaders(res: ServerResponse, args: unknown[]): void {
  const last = args.length - 1
  const headers = args[last]
  if (last < 1 || typeof headers !== 'object' || headers === null || Array.isArray(headers)) return
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) res.setHeader(name, value as string | number | readonly string[])
  }
  args.length = last
}

/** Sends a guard's outcome on a bare Node response (Express, node:http). */
export function sendOutcome(res: ServerResponse, outcome: AuthOutcome): void {
  if (res.headersSent) return
  res.statusCode = outcome.status
  if (outcome.type === 'redirect') {
    const location = encodeLocation(outcome.location)
    res.setHeader('location', location)
    res.setHeader('content-type', 'text/plain; charset=utf-8')
    res.end(`Redirecting to ${location}`)
    return
  }
  for (const [name, value] of Object.entries(outcome.headers ?? {})) res.setHeader(name, value)
  if (outcome.body === undefined || outcome.body === null) {
    res.end()
  } else if (typeof outcome.body === 'string') {
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8')
    res.end(outcome.body)
  } else {
    if (!res.hasHeader('content-type'))
      res.setHeader('content-type', 'application/json; charset=utf-8')
    res.end(JSON.stringify(outcome.body))
  }
}
