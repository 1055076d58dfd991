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

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )
}

/** The login page: Flask-Login's README form plus a "remember me" box. */
export function loginPage(next: string | null, flashes: readonly { message: string }[]): string {
  const action = next === null ? '/login' : `/login?next=${encodeURIComponent(next)}`
  const messages = flashes.map((f) => `<p class="flash">${escapeHtml(f.message)}</p>`).join('')
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Log in</title></head><body>
${messages}
<form action="${escapeHtml(action)}" method="POST">
  <input type="text" name="email" id="email" placeholder="email" autocomplete="username">
  <input type="password" name="password" id="password" placeholder="password" autocomplete="current-password">
  <label><input type="checkbox" name="remember" id="remember"> Remember me</label>
  <input type="submit" name="submit" value="Log in">
</form>
</body></html>`
}

/** A secret for the example: SESSION_SECRET when set, else a random one for this process. */
export function exampleSecret(): string {
  const secret = process.env.SESSION_SECRET
  if (secret !== undefined && secret !== '') return secret
  console.warn(
    'SESSION_SECRET is not set: using a random secret, so logins end when the server restarts.',
  )
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}
