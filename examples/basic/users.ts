import { timingSafeEqual } from 'node:crypto'
import { UserMixin } from 'login-manager'

/** The example's user: Flask-Login's README uses the e-mail (here a user name) as the id. */
export class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

// A real app keeps password hashes (scrypt, argon2) in a database; the README example keeps one
// user in memory so that it runs with nothing else installed.
const passwords = new Map([['leafstorm', 'secret']])

/** Flask-Login's `user_loader`: the user for an id, or null. */
export function loadUser(id: string): User | null {
  return passwords.has(id) ? new User(id) : null
}

/** The user whose password matches, or null. Compares in constant time. */
export function checkPassword(id: unknown, password: unknown): User | null {
  if (typeof id !== 'string' || typeof password !== 'string') return null
  const expected = passwords.get(id)
  if (expected === undefined) return null
  const a = Buffer.from(password)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b) ? new User(id) : null
}
