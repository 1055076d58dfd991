// Sharing remember-me cookies with a Flask-Login app during a migration.
import { decodeCookie, encodeCookie, LoginManager, UserMixin } from 'login-manager'

export class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

export function createManager(users: Map<string, User>) {
  // Flask's SECRET_KEY. It must pass login-manager's rules (at least 32 bytes, not well known).
  const secret = process.env.FLASK_SECRET_KEY
  if (secret === undefined) throw new Error('set FLASK_SECRET_KEY to the Flask app SECRET_KEY')
  return new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    remember: {
      format: 'flask', // `id|hex(HMAC-SHA512(SECRET_KEY, id))`, as encode_cookie writes it
      name: 'remember_token', // REMEMBER_COOKIE_NAME
      duration: 365 * 24 * 3600, // REMEMBER_COOKIE_DURATION (enforced by the browser only)
      secure: true, // REMEMBER_COOKIE_SECURE: set it to True on the Flask side too
    },
  })
}

/** Flask-Login's encode_cookie / decode_cookie, byte for byte. */
export function roundTrip(secretKey: string, userId: string): string | null {
  const cookie = encodeCookie(userId, secretKey) // '1|0e9e6e98…' for ('1', 'deterministic')
  return decodeCookie(cookie, [secretKey]) // the id, or null when the digest does not match
}
