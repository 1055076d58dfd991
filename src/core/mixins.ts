import type { UserId, UserLike } from '../shared/types.ts'

/**
 * Flask-Login's `UserMixin`: active, authenticated while active, not anonymous, and `getId()`
 * returning the `id` property as a string.
 *
 * @example
 * ```ts
 * class User extends UserMixin { constructor(readonly id: string, readonly name: string) { super() } }
 * ```
 */
export class UserMixin implements UserLike {
  /** Override to deactivate an account: inactive users cannot log in (unless forced) and are not authenticated. */
  get isActive(): boolean {
    return true
  }
  /** True while the user is active (Flask-Login ≥ 0.6 semantics: inactive users are logged out). */
  get isAuthenticated(): boolean {
    return this.isActive
  }
  get isAnonymous(): boolean {
    return false
  }
  /**
   * The id stored in the session: `String(this.id)`.
   * @throws TypeError when the class has no `id` property — override `getId` instead.
   */
  getId(): UserId {
    const id = (this as { id?: unknown }).id
    if (id === undefined || id === null) {
      throw new TypeError('No `id` attribute - override `getId`')
    }
    return String(id)
  }
  /** Two users are equal when both are `UserMixin`s with the same id (Flask-Login's `__eq__`). */
  equals(other: unknown): boolean {
    return other instanceof UserMixin && other.getId() === this.getId()
  }
}

/** Flask-Login's `AnonymousUserMixin`: what `currentUser()` returns when nobody is logged in. */
export class AnonymousUser implements UserLike {
  get isActive(): boolean {
    return false
  }
  get isAuthenticated(): boolean {
    return false
  }
  get isAnonymous(): boolean {
    return true
  }
  getId(): null {
    return null
  }
}
