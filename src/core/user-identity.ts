import { jsonBytes, MAX_VERSION_BYTES } from '../session/limits.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { UserId, UserLike } from '../shared/types.ts'

/**
 * The id to store for a user at login (Flask's `get_id`): `getUserId(user)`, else
 * `user.getId()`, else `user.id`; checked to be a finite number or a well-formed, non-empty string.
 * @throws LoginManagerError `ERR_USER_ID` for anything else.
 */
export function userIdOf<User extends object, Id extends UserId>(
  user: User,
  getUserId: ((user: User) => Id) | undefined,
): Id {
  const id =
    getUserId !== undefined
      ? getUserId(user)
      : typeof (user as UserLike).getId === 'function'
        ? (user as UserLike).getId?.()
        : (user as { id?: unknown }).id
  if (typeof id === 'number' ? !Number.isFinite(id) : typeof id !== 'string') {
    throw new LoginManagerError(
      'ERR_USER_ID',
      `loginUser: the user's id must be a string or a finite number, got ${typeof id}; give users an \`id\` or \`getId()\`, or pass \`getUserId\``,
    )
  }
  if (typeof id === 'string' && (id === '' || id.length > 1024 || !isWellFormed(id))) {
    throw new LoginManagerError(
      'ERR_USER_ID',
      'loginUser: a string id must be non-empty, at most 1024 characters and valid Unicode',
    )
  }
  return id as Id
}

/**
 * A `sessionVersion` to store at login, checked: it must fit in a session cookie.
 * @throws LoginManagerError `ERR_INVALID_OPTION` for anything but a finite number or a string
 * of at most 128 bytes.
 */
export function checkedVersion(version: unknown): string | number | undefined {
  if (
    version === undefined ||
    (typeof version === 'number' && Number.isFinite(version)) ||
    (typeof version === 'string' && jsonBytes(version) - 2 <= MAX_VERSION_BYTES)
  ) {
    return version
  }
  throw new LoginManagerError(
    'ERR_INVALID_OPTION',
    `sessionVersion: must return a finite number or a string of at most ${MAX_VERSION_BYTES} bytes (a counter, a timestamp or a short hash), got ${typeof version === 'string' ? `a string of ${jsonBytes(version) - 2} bytes` : String(version)}`,
  )
}

// String.prototype.isWellFormed is not in the ES2023 typings; lone surrogates cannot be encoded.
function isWellFormed(value: string): boolean {
  return !/\p{Surrogate}/u.test(value)
}
