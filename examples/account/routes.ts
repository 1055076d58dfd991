// The account example's routes, written once against login-manager's per-request auth object;
// each framework file mounts them with its own adapter, guards and body parser.
import {
  type GuardedAuth,
  LoginManager,
  type RequestAuth,
  type SessionInfo,
  type SessionStore,
} from 'login-manager'
import {
  accountPage,
  devicesPage,
  emailPage,
  homePage,
  loginPage,
  reauthenticatePage,
} from './pages.ts'
import { type Account, checkPassword, loadAccount } from './users.ts'

/** What a route answers: a page (status 200 unless given) or a 303 redirect. */
export type Reply =
  | { readonly html: string; readonly status?: number }
  | { readonly redirect: string }

/** The urlencoded form of a POST (first value of each field). */
export type Form = Readonly<Record<string, string | undefined>>

interface Open {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly guard?: undefined
  run(auth: RequestAuth<Account>, form: Form): Reply | Promise<Reply>
}

interface Guarded {
  readonly method: 'GET' | 'POST'
  readonly path: string
  /** The adapter's `loginRequired` or `freshLoginRequired` runs first. */
  readonly guard: 'login' | 'fresh'
  run(auth: GuardedAuth<Account>, form: Form): Reply | Promise<Reply>
}

export type Route = Open | Guarded

/** The example's manager: remember-me, a refresh view for account changes, an optional store. */
export function createManager(secret: string, store?: SessionStore): LoginManager<Account> {
  return new LoginManager<Account>({
    secret,
    userLoader: loadAccount,
    loginView: '/login',
    // Where freshLoginRequired sends a login restored by remember-me.
    refreshView: '/reauthenticate',
    refreshMessage: 'Please enter your password again to change your account.',
    session: { store },
  })
}

const BAD_LOGIN = 'That user name and password do not match.'
const redirect = (to: string): Reply => ({ redirect: to })

/** Every route of the account example. */
export function accountRoutes(manager: LoginManager<Account>): Route[] {
  const hasStore = manager.options.session.store !== undefined
  const now = () => Math.floor(manager.options.now() / 1000)

  return [
    {
      method: 'GET',
      path: '/',
      run: async (auth) => ({ html: homePage(await auth.getUser(), auth.consumeFlashes()) }),
    },
    {
      method: 'GET',
      path: '/login',
      run: (auth) => ({
        html: loginPage({ next: auth.request.query('next'), flashes: auth.consumeFlashes() }),
      }),
    },
    {
      method: 'POST',
      path: '/login',
      run: async (auth, form) => {
        const account = checkPassword(form.username, form.password)
        if (account === null) {
          const next = auth.request.query('next')
          const username = form.username
          return { status: 401, html: loginPage({ next, flashes: [], error: BAD_LOGIN, username }) }
        }
        await auth.loginUser(account, { remember: form.remember === 'on' })
        auth.flash(`Welcome, ${account.name}.`, 'success')
        // Only a same-site `next` is followed.
        return redirect(auth.nextUrl('/account'))
      },
    },
    {
      method: 'POST',
      path: '/logout',
      run: async (auth) => {
        await auth.logoutUser()
        // The login is gone, the session (new identity) carries the message to the next page.
        auth.flash('You are logged out on this browser.', 'success')
        return redirect('/')
      },
    },
    {
      method: 'GET',
      path: '/account',
      guard: 'login',
      run: async (auth) => ({
        html: accountPage({
          account: auth.user,
          fresh: await auth.isFresh(),
          remembered: await auth.isRemembered(),
          devices: hasStore,
          flashes: auth.consumeFlashes(),
        }),
      }),
    },
    // The form and its action share a URL and both need a fresh login: a remembered login is
    // sent to /reauthenticate?next=/account/email and comes back here with a GET, to the form.
    {
      method: 'GET',
      path: '/account/email',
      guard: 'fresh',
      run: (auth) => ({ html: emailPage(auth.user, auth.consumeFlashes()) }),
    },
    {
      method: 'POST',
      path: '/account/email',
      guard: 'fresh',
      run: (auth, form) => {
        const email = (form.email ?? '').trim()
        if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
          return { status: 400, html: emailPage(auth.user, [], 'Enter an e-mail address.') }
        }
        auth.user.email = email // the database update
        auth.flash(`Your e-mail address is now ${email}.`, 'success')
        return redirect('/account')
      },
    },
    {
      method: 'GET',
      path: '/reauthenticate',
      guard: 'login',
      run: (auth) => ({
        html: reauthenticatePage({
          account: auth.user,
          next: auth.request.query('next'),
          flashes: auth.consumeFlashes(),
        }),
      }),
    },
    {
      method: 'POST',
      path: '/reauthenticate',
      guard: 'login',
      run: async (auth, form) => {
        if (checkPassword(auth.user.id, form.password) === null) {
          const next = auth.request.query('next')
          const error = 'That password is not right.'
          return {
            status: 401,
            html: reauthenticatePage({ account: auth.user, next, flashes: [], error }),
          }
        }
        await auth.confirmLogin() // the login is fresh again
        return redirect(auth.nextUrl('/account'))
      },
    },
    {
      method: 'GET',
      path: '/account/devices',
      guard: 'login',
      run: async (auth) => {
        let sessions: SessionInfo[] | null = null
        if (hasStore) sessions = await manager.listSessions(auth.user.id)
        const current = auth.sessionHandle
        return {
          html: devicesPage({
            account: auth.user,
            sessions,
            current,
            now: now(),
            flashes: auth.consumeFlashes(),
          }),
        }
      },
    },
    {
      method: 'POST',
      path: '/account/devices/revoke',
      guard: 'login',
      run: async (auth, form) => {
        const handle = form.handle ?? ''
        if (!hasStore) return redirect('/account/devices')
        if (handle === auth.sessionHandle) {
          await auth.logoutUser()
          auth.flash('You are logged out on this browser.', 'success')
          return redirect('/')
        }
        const ended = await manager.revokeSession(auth.user.id, handle)
        auth.flash(
          ended ? 'That device is logged out.' : 'That device was already logged out.',
          'success',
        )
        return redirect('/account/devices')
      },
    },
    {
      method: 'POST',
      path: '/account/devices/logout-others',
      guard: 'login',
      run: async (auth) => {
        if (!hasStore) return redirect('/account/devices')
        await auth.logoutOtherDevices()
        auth.flash('Your other devices are logged out. This one stays logged in.', 'success')
        return redirect('/account/devices')
      },
    },
  ]
}
