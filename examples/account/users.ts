import { timingSafeEqual } from 'node:crypto'
import { UserMixin } from 'login-manager'

/** An account of the example: a user name (the id), a display name and an e-mail address. */
export class Account extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
    public email: string,
  ) {
    super()
  }
}

// A real app keeps accounts and password hashes (scrypt, argon2) in its database. Here they live
// in this process: with SESSION_STORE=redis, several processes share logins, not e-mail changes.
const accounts = new Map([
  ['leafstorm', new Account('leafstorm', 'Leaf Storm', 'leafstorm@example.com')],
])
const passwords = new Map([['leafstorm', 'secret']])

/** The user loader: the account for an id, or null. */
export function loadAccount(id: string): Account | null {
  return accounts.get(id) ?? null
}

/** The account whose password matches, or null. Compares in constant time. */
export function checkPassword(id: unknown, password: unknown): Account | null {
  if (typeof id !== 'string' || typeof password !== 'string') return null
  const expected = passwords.get(id)
  const account = accounts.get(id)
  if (expected === undefined || account === undefined) return null
  const a = Buffer.from(password)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b) ? account : null
}
