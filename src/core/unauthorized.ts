import { LoginManagerError } from '../shared/errors.ts'
import type { UserId } from '../shared/types.ts'
import { loginUrl, makeNextParam, safeNextUrl } from './next-url.ts'
import type { LoginView } from './options.ts'
import { type AuthOutcome, redirect, respond } from './outcome.ts'
import type { RequestInfo } from './request-info.ts'
import type { RequestState } from './request-state.ts'

/**
 * Where an anonymous or not-fresh visitor is sent (Flask's `login_view`,
 * `blueprint_login_views` and `refresh_view`): the app's login view, per-prefix overrides, the
 * refresh view, and endpoint names resolved to paths.
 */
export class LoginViews {
  #loginView: LoginView | undefined
  #byPrefix: [prefix: string, view: LoginView | null | false, folded: string][] = []
  #refreshView: LoginView | undefined
  readonly #resolveEndpoint: ((name: string) => string) | undefined

  constructor(resolveEndpoint: ((name: string) => string) | undefined) {
    this.#resolveEndpoint = resolveEndpoint
  }

  /** See `LoginManager.setLoginView`. */
  setLoginView(view: LoginView | null | false, prefix?: string): void {
    if (prefix === undefined) {
      this.#loginView = view === false || view === null ? undefined : this.#check('loginView', view)
      return
    }
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `loginViews: prefix ${JSON.stringify(prefix)} must be a path starting with '/'`,
      )
    }
    const key = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
    const checked = view === null || view === false ? view : this.#check('loginViews', view)
    this.#byPrefix = this.#byPrefix.filter(([p]) => p !== key)
    this.#byPrefix.push([key, checked ?? null, key.toLowerCase()])
    // Longest prefix first, so the most specific router wins.
    this.#byPrefix.sort((a, b) => b[0].length - a[0].length)
  }

  setRefreshView(view: LoginView | null | undefined): void {
    this.#refreshView = view === null ? undefined : this.#check('refreshView', view)
  }

  /** The app's login view without a request (for `loginUrl`), or `view` resolved. */
  target(view: string | undefined): string | null {
    return view === undefined ? this.#expand(this.#loginView, undefined) : this.#expandString(view)
  }

  /**
   * The login view for a request: the longest matching prefix entry, else the app's.
   * `caseSensitive: false` matches prefixes without regard to letter case, for frameworks that
   * route that way.
   */
  loginViewFor(request: RequestInfo, caseSensitive = true): string | null {
    const path =
      caseSensitive || this.#byPrefix.length === 0 ? request.path : request.path.toLowerCase()
    for (const [exact, view, folded] of this.#byPrefix) {
      const prefix = caseSensitive ? exact : folded
      if (path === prefix || path.startsWith(prefix === '/' ? '/' : `${prefix}/`)) {
        if (view === false) return null
        if (view !== null) return this.#expand(view, request)
        break
      }
    }
    return this.#expand(this.#loginView, request)
  }

  refreshViewFor(request: RequestInfo): string | null {
    return this.#expand(this.#refreshView, request)
  }

  #check(label: string, view: LoginView | undefined): LoginView | undefined {
    if (view === undefined || view === null) return undefined
    if (typeof view === 'function') return view
    if (typeof view !== 'string' || view === '') {
      throw new TypeError(`${label}: expected a path, a URL, an endpoint name or a function`)
    }
    if (!isUrlOrPath(view) && this.#resolveEndpoint === undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `${label}: '${view}' is neither a path ('/login') nor a URL; use a path, or pass resolveEndpoint to map endpoint names to paths`,
      )
    }
    return view
  }

  #expand(view: LoginView | undefined, request: RequestInfo | undefined): string | null {
    if (view === undefined) return null
    if (typeof view === 'function') {
      if (request === undefined) return null
      const result = view(request)
      return typeof result === 'string' && result !== '' ? this.#expandString(result) : null
    }
    return this.#expandString(view)
  }

  #expandString(view: string): string {
    if (isUrlOrPath(view)) return view
    if (this.#resolveEndpoint === undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `login view '${view}' is neither a path nor a URL and no resolveEndpoint is configured`,
      )
    }
    return this.#resolveEndpoint(view)
  }
}

/**
 * Flask's `unauthorized()` once `userUnauthorized` fired and no custom handler took over: flashes
 * the login message and redirects to the login view with a `next`, or answers 401.
 */
export function redirectToLogin<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  views: LoginViews,
): AuthOutcome {
  // Prefixes match as the framework routes: Express, for one, ignores letter case by default.
  const view = views.loginViewFor(state.request, state.adapter.caseSensitiveRouting !== false)
  const o = state.options
  return redirectToView(state, view, o.loginMessage, o.loginMessageCategory)
}

/** Flask's `needs_refresh()` without a custom handler: the refresh view and message. */
export function redirectToRefresh<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  views: LoginViews,
): AuthOutcome {
  const view = views.refreshViewFor(state.request)
  const o = state.options
  return redirectToView(state, view, o.refreshMessage, o.refreshMessageCategory)
}

/**
 * Where a login handler should send the user after logging in: the `next` query parameter (or
 * the one kept in the session), if it is a safe same-origin target, else `fallback`. A session
 * `next` is consumed.
 */
export function safeNext<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  fallback: string,
): string {
  const o = state.options
  let candidate: string | null = state.request.query(o.nextField)
  if (candidate === null && state.hasSessionCookie) {
    const session = state.sessionNow()
    if (session._auth.next !== undefined) {
      candidate = session._auth.next
      session._patchAuth({ next: undefined })
    }
  }
  if (candidate === null) return fallback
  const safe = safeNextUrl(candidate, { allowedOrigins: o.allowedRedirectOrigins })
  if (safe === null) {
    state.manager.emit('redirectRejected', {
      auth: state.auth,
      target: JSON.stringify(candidate.slice(0, 200)),
    })
    return fallback
  }
  return safe
}

function redirectToView<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  view: string | null,
  message: string | null,
  category: string,
): AuthOutcome {
  const o = state.options
  if (view === null || (o.negotiate && isApiRequest(state))) {
    return unauthorizedResponse(wantsJson(state))
  }
  if (message !== null) state.sessionNow().flash(state.manager._localize(message), category)
  const forceHost = o.forceHost
  const next = nextFor(state, view)
  if (o.useSessionForNext) {
    // A next that nextUrl() would refuse (longer than it accepts, or unsafe) is not kept: it
    // could only fill the session cookie. Nor is an older one, which is not where the user was.
    const usable = safeNextUrl(next, { allowedOrigins: o.allowedRedirectOrigins }) !== null
    state.sessionNow()._patchAuth({ next: usable ? next : undefined })
    return redirect(loginUrl(view, undefined, o.nextField, { forceHost }))
  }
  return redirect(loginUrl(view, next, o.nextField, { forceHost }))
}

/**
 * The `next` for a redirect to `view`: Flask-Login's `make_next_param` of the request URL. For
 * a view on another host that keeps the whole URL, and without a configured `origin` the host
 * in it would be the client's own `Host` header: then only the path and query are used.
 */
function nextFor<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  view: string,
): string {
  const href = state.request.url.href
  const next = makeNextParam(view, href)
  if (state.options.origin !== undefined || next.startsWith('/')) return next
  return makeNextParam('/', href)
}

function isApiRequest<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
): boolean {
  if (state.adapter.header('x-requested-with')?.toLowerCase() === 'xmlhttprequest') return true
  return wantsJson(state)
}

function wantsJson<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
): boolean {
  const accept = state.adapter.header('accept')
  return accept?.includes('json') === true && !accept.includes('text/html')
}

function unauthorizedResponse(json: boolean): AuthOutcome {
  return json ? respond(401, { error: 'Unauthorized' }) : respond(401, 'Unauthorized')
}

function isUrlOrPath(view: string): boolean {
  return view.startsWith('/') || /^https?:\/\//i.test(view)
}
