/**
 * Checks that what an app passes as a user is a user object, with a message that says what went
 * wrong: a login with nothing (the user was not found, and nobody checked) or with the user's id
 * instead of the user.
 * @throws TypeError naming the operation, what it got and what to pass instead.
 */
export function checkUserArgument(operation: string, value: unknown): void {
  if (typeof value === 'object' && value !== null) return
  if (value === undefined || value === null) {
    throw new TypeError(
      `${operation}: expected the user object (what your userLoader returns), got ${String(value)}; check that the user was found before logging them in`,
    )
  }
  if (typeof value === 'string' || typeof value === 'number') {
    const shown =
      typeof value === 'string'
        ? `the string ${JSON.stringify(value.slice(0, 64))}`
        : `the number ${value}`
    throw new TypeError(
      `${operation}: expected the user object, got ${shown}: pass the user object (what your userLoader returns for that id), not its id`,
    )
  }
  throw new TypeError(`${operation}: expected the user object, got a ${typeof value}`)
}
