// An audit log fed by every login-manager event.
import type { LoginManager, UserMixin } from 'login-manager'

export function attachAuditLog<User extends UserMixin>(
  manager: LoginManager<User>,
  write: (entry: Record<string, unknown>) => void = (entry) => console.log(JSON.stringify(entry)),
): () => void {
  const offs = [
    manager.on('userLoggedIn', ({ auth, user }) =>
      write({ event: 'login', user: user.getId(), ip: auth.request.clientAddress }),
    ),
    // `user` is the anonymous user (getId() → null) when nobody was logged in.
    manager.on('userLoggedOut', ({ user }) => write({ event: 'logout', user: user.getId?.() })),
    manager.on('userLoadedFromCookie', ({ user }) =>
      write({ event: 'remembered', user: user.getId() }),
    ),
    manager.on('userLoadedFromRequest', ({ auth, user }) =>
      write({ event: 'api-call', user: user.getId(), path: auth.request.path }),
    ),
    manager.on('userLoginConfirmed', ({ auth }) =>
      write({ event: 'reauthenticated', user: auth.sessionUserId }),
    ),
    manager.on('userUnauthorized', ({ auth }) =>
      write({ event: 'unauthorized', path: auth.request.path }),
    ),
    manager.on('userNeedsRefresh', ({ auth }) =>
      write({ event: 'needs-refresh', user: auth.sessionUserId, path: auth.request.path }),
    ),
    manager.on('sessionProtected', ({ auth, mode }) =>
      write({ event: 'session-protected', mode, ip: auth.request.clientAddress }),
    ),
    manager.on('cookieRejected', ({ cookie, reason }) =>
      write({ event: 'cookie-rejected', cookie, reason }),
    ),
    manager.on('redirectRejected', ({ target }) => write({ event: 'redirect-rejected', target })),
    // Server-side sessions only: a copied remember-me cookie, and session store failures.
    manager.on('rememberTokenReused', ({ auth, userId, ended }) =>
      write({
        event: 'remember-token-reused',
        user: userId,
        ended,
        ip: auth.request.clientAddress,
      }),
    ),
    manager.on('storeError', ({ operation, error }) =>
      write({ event: 'store-error', operation, error: String(error) }),
    ),
    // The first read of the user in a request: frequent, so only when debugging.
    manager.on('userAccessed', ({ auth }) => {
      if (process.env.DEBUG_AUTH === '1') write({ event: 'accessed', path: auth.request.path })
    }),
  ]
  return () => {
    for (const off of offs) off()
  }
}
