import { LoginManager } from 'login-manager'
import { loadUser, User } from '../../examples/basic/users.ts'

export { User }

/**
 * The basic example's manager (examples/basic/express.ts): same user loader, same login view,
 * every other option at its default. The parent builds one with the same secret to mint cookies.
 */
export function createBenchManager(secret: string): LoginManager<User> {
  return new LoginManager<User>({ secret, userLoader: loadUser, loginView: '/login' })
}
