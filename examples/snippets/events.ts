// An audit log fed by every login-manager event.
import type { LoginManager, UserId } from 'login-manager'

export function attachAuditLog<User extends object, Id extends UserId>(
  manager: LoginManager<User, Id>,
  write: (entry: Record<string, unknown>) => void = (entry) => console.log(JSON.stringify(entry)),
): () => void {
  const offs = [
    manager.on('userLoggedIn', ({ auth }) =>
      write({ event: 'login', user: auth.sessionUserId, ip: auth.request.clientAddress }),
    ),
    // Fires before the login is dropped, so the id is still readable here.
    manager.on('userLoggedOut', ({ auth }) => write({ event: 'logout', user: auth.sessionUserId })),
    manager.on('userLoadedFromCookie', ({ auth }) =>
      write({ event: 'remembered', user: auth.sessionUserId }),
    ),
    manager.on('userLoadedFromRequest', ({ auth }) =>
      write({ event: 'api-login', path: auth.request.path }),
    ),
    manager.on('userLoginConfirmed', ({ auth }) =>
      write({ event: 'reauthenticated', user: auth.sessionUserId }),
    ),
    manager.on('userUnauthorized', ({ auth }) =>
      write({ event: 'unauthorized', path: auth.request.path }),
    ),
    manager.on('userNeedsRefresh', ({ auth }) =>
      write({ event: 'needs-refresh', path: auth.request.path }),
    ),
    manager.on('sessionProtected', ({ auth, mode }) =>
      write({ event: 'session-protected', mode, ip: auth.request.clientAddress }),
    ),
    manager.on('cookieRejected', ({ cookie, reason }) =>
      write({ event: 'cookie-rejected', cookie, reason }),
    ),
    manager.on('redirectRejected', ({ target }) => write({ event: 'redirect-rejected', target })),
    // userAccessed fires on the first read of the user in a request: a busy, debug-level event.
    manager.on('userAccessed', ({ auth }) => {
      if (process.env.DEBUG_AUTH === '1') write({ event: 'accessed', path: auth.request.path })
    }),
  ]
  return () => {
    for (const off of offs) off()
  }
}
