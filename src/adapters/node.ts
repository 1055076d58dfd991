import { ServerResponse } from 'node:http'
import { addVaryCookie, rawHeader } from './headers.ts'

export { addVaryCookie, rawHeader }

import type { ResponseEffects } from '../core/auth.ts'
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

const hookedEnds = new WeakMap<object, Set<symbol>>()

/** Like {@link hookWriteHeadPrototype}, for `end` (store sessions: see {@link holdEndForStore}). */
export function hookEndPrototype(
  proto: object,
  key: symbol,
  lookup: AuthLookup,
): 'new' | 'done' | false {
  if (proto === (ServerResponse.prototype as object)) return false
  const target = proto as Hookable
  const keys = hookedEnds.get(proto)
  if (keys?.has(key) === true) return 'done'
  if (typeof target.end !== 'function') return false
  const original = target.end as EndFunction
  target.end = function endAfterStore(this: ServerResponse, ...args: unknown[]) {
    const auth = lookup(this)
    // After the first end, commit() answers null and this simply ends.
    return auth === undefined
      ? original.apply(this, args)
      : endAfterWrites(this, auth, original, args)
  }
  if (keys === undefined) hookedEnds.set(proto, new Set([key]))
  else keys.add(key)
  return 'new'
}

/**
 * {@link holdEndForStore} through the response's own prototype, with the same conditions as
 * {@link hookWriteHead}; false when the caller must patch the response itself.
 */
export function hookEndForStore(res: ServerResponse, key: symbol, lookup: AuthLookup): boolean {
  const proto = Object.getPrototypeOf(res) as object | null
  if (proto === null) return false
  const hooked = hookEndPrototype(proto, key, lookup)
  return hooked === 'done' || (hooked === 'new' && !Object.hasOwn(res, 'end'))
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
    const status = typeof args[0] === 'number' ? args[0] : res.statusCode
    const effects = auth.commit(status)
    if (effects !== null) applyEffects(res, effects, args)
    return (original as (...a: unknown[]) => ServerResponse).apply(this, args)
  } as ServerResponse['writeHead']
}

type Hookable = Record<string, unknown>
const hookedWriteHeads = new WeakMap<object, Set<symbol>>()

/**
 * Hooks `writeHead` on a response prototype (once per prototype and key): the hook applies the
 * effects of the auth object a response carries under `key`. Returns `'new'` when it hooked now,
 * `'done'` when it already had, `false` when it cannot (no such method, or the shared
 * `ServerResponse.prototype`, which would touch every response of the process).
 */
export function hookWriteHeadPrototype(
  proto: object,
  key: symbol,
  lookup: AuthLookup,
): 'new' | 'done' | false {
  if (proto === (ServerResponse.prototype as object)) return false
  const target = proto as Hookable
  const keys = hookedWriteHeads.get(proto)
  if (keys?.has(key) === true) return 'done'
  if (typeof target.writeHead !== 'function') return false
  const original = target.writeHead as (...args: unknown[]) => ServerResponse
  target.writeHead = function writeHeadWithAuth(this: ServerResponse, ...args: unknown[]) {
    const auth = lookup(this)
    // commit() answers only once: a second call (a retry after an error thrown below, such as an
    // oversized cookie) applies nothing.
    if (auth !== undefined) {
      const status = typeof args[0] === 'number' ? args[0] : this.statusCode
      const effects = auth.commit(status)
      if (effects !== null) applyEffects(this, effects, args)
    }
    return original.apply(this, args)
  }
  if (keys === undefined) hookedWriteHeads.set(proto, new Set([key]))
  else keys.add(key)
  return 'new'
}

/**
 * Arranges for the effects of the auth object `lookup` finds for a response to be applied right
 * before it sends its headers, through a `writeHead` hook on the response's own prototype
 * (Express gives every app one, between the response and `ServerResponse.prototype`): much
 * cheaper than patching each response, and nothing is stored on the response. Returns false when
 * that cannot work for this response: no such prototype (a bare `node:http` response), or the
 * hook was added just now while the response already carries a `writeHead` patched by some other
 * middleware (which may have captured the unhooked method). The caller then patches the response
 * itself with {@link applyBeforeHeaders}.
 */
export function hookWriteHead(res: ServerResponse, key: symbol, lookup: AuthLookup): boolean {
  const proto = Object.getPrototypeOf(res) as object | null
  if (proto === null) return false
  const hooked = hookWriteHeadPrototype(proto, key, lookup)
  return hooked === 'done' || (hooked === 'new' && !Object.hasOwn(res, 'writeHead'))
}

/**
 * Appends the cookies and sets `Vary` / `Cache-Control` on a Node response. With the arguments of
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
  if (effects.noStore) res.setHeader('cache-control', 'private, no-store')
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
    res.setHeader('location', outcome.location)
    res.setHeader('content-type', 'text/plain; charset=utf-8')
    res.end(`Redirecting to ${outcome.location}`)
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
