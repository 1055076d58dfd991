/**
 * Flask-Login's test fixtures (`tests/test_login.py`): the `User` class, the four users, `USERS`,
 * and `listen_to` as an event spy.
 *
 * @module
 */
import assert from 'node:assert/strict'
import type { LoginManager, LoginManagerEvents, UserId } from 'login-manager'
import { UserMixin } from 'login-manager'

/** Flask's test `User`: `getId()` returns the RAW id (a number for the numeric users). */
export class User extends UserMixin {
  readonly name: string
  readonly id: UserId
  readonly active: boolean

  constructor(name: string, id: UserId, active = true) {
    super()
    this.name = name
    this.id = id
    this.active = active
  }

  override get isActive(): boolean {
    return this.active
  }

  override getId(): UserId {
    return this.id
  }
}

export const notch = new User('Notch', 1)
export const steve = new User('Steve', 2)
export const creeper = new User('Creeper', 3, false)
/** A user with a non-ASCII string id. */
export const germanjapanese = new User('Müller', '佐藤')

/** Flask's `USERS`: numeric keys for the numeric ids, the string key for '佐藤'. */
export const USERS: ReadonlyMap<UserId, User> = new Map<UserId, User>([
  [1, notch],
  [2, steve],
  [3, creeper],
  ['佐藤', germanjapanese],
])

/** What {@link listen} returns: Flask's `_SignalsCaught`. */
export interface EventSpy<Payload> {
  /** Every payload heard, in order. */
  readonly calls: readonly Payload[]
  /** How many times the event fired. */
  readonly count: number
  /**
   * Asserts the event fired exactly once (and, when given, that the predicate holds for its
   * payload); returns the payload. Flask's `assert_heard_one`.
   */
  heardOne(predicate?: (payload: Payload) => boolean, message?: string): Payload
  /** Asserts the event never fired. Flask's `assert_heard_none`. */
  heardNone(): void
  /** Forgets what was heard so far. */
  reset(): void
  /** Stops listening. */
  off(): void
}

/**
 * Listens to one event of a manager (Flask's `listen_to(signal)`).
 *
 * @example
 * ```ts
 * const loggedIn = listen(manager, 'userLoggedIn')
 * await client.get('/login-notch')
 * loggedIn.heardOne(({ user }) => user === notch)
 * ```
 */
export function listen<
  U extends object,
  Id extends UserId,
  K extends keyof LoginManagerEvents<U, Id>,
>(manager: LoginManager<U, Id>, event: K): EventSpy<LoginManagerEvents<U, Id>[K]> {
  type Payload = LoginManagerEvents<U, Id>[K]
  const calls: Payload[] = []
  const off = manager.on(event, (payload) => {
    calls.push(payload)
  })
  const name = String(event)
  return {
    calls,
    get count() {
      return calls.length
    },
    heardOne(predicate, message) {
      if (calls.length === 0) assert.fail(`${name}: no events were fired`)
      if (calls.length > 1) assert.fail(`${name}: ${calls.length} events were fired`)
      const payload = calls[0] as Payload
      if (predicate !== undefined) {
        assert.ok(
          predicate(payload),
          message ?? `${name}: one event was heard, with the wrong payload`,
        )
      }
      return payload
    },
    heardNone() {
      assert.equal(calls.length, 0, `${name}: ${calls.length} events were fired`)
    },
    reset() {
      calls.length = 0
    },
    off,
  }
}
