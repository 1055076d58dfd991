// Every option of LoginManager, with its default where it has one. Durations are in seconds.
import { AnonymousUser, LoginManager, respond, UserMixin } from 'login-manager'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly passwordChangedAt = 0,
  ) {
    super()
  }
}

export function createManager(users: Map<string, User>) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  return new LoginManager<User>({
    secret, // required; or [newSecret, oldSecret] to rotate keys
    userLoader: (id) => users.get(id) ?? null,
    requestLoader: () => null, // e.g. API keys; see docs/login-and-logout.md
    anonymousUser: () => new AnonymousUser(),
    getUserId: (user) => user.id, // default: user.getId() when present, else user.id
    sessionVersion: (user) => user.passwordChangedAt, // default: none (no revocation)
    loginView: '/login', // default: none, so unauthorized requests get 401
    loginViews: { '/api': false }, // per path prefix; false = 401, null = loginView
    refreshView: '/reauthenticate', // default: none (401)
    loginMessage: 'Please log in to access this page.', // null flashes nothing
    loginMessageCategory: 'message',
    refreshMessage: 'Please reauthenticate to access this page.',
    refreshMessageCategory: 'message',
    localize: (message) => message,
    useSessionForNext: false,
    nextField: 'next',
    // forceHostForRedirects: 'www.example.com',
    // origin: 'https://www.example.com',
    allowedRedirectOrigins: [],
    exemptMethods: ['OPTIONS'],
    sessionProtection: 'basic', // null | 'basic' | 'strong'
    negotiate: true, // JSON and XHR requests get 401 instead of a redirect
    // onUnauthorized: () => redirect('/sign-in'), // replaces the flash and redirect
    onNeedsRefresh: () => respond(401, { error: 'reauthenticate' }),
    session: {
      name: '__Host-session',
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      idleTimeout: 3600, // 1 hour
      absoluteTimeout: 43200, // 12 hours
      touchInterval: 60,
      store: undefined, // a SessionStore (MemoryStore, RedisStore) keeps sessions on the server
      onStoreError: 'fail', // or 'anonymous'; what a request gets while the store is down
      keepOnLogin: 'all', // or 'none', or the keys a login keeps: ['cart']
    },
    remember: {
      name: '__Host-remember',
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      duration: 2592000, // 30 days; at most 400 days
      refreshEachRequest: false,
      format: 'sealed', // or 'flask'
    },
    now: Date.now, // milliseconds; tests inject a fake clock
  })
}
