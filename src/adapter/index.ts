/**
 * The adapter contract: what a framework integration of login-manager reads from a request and
 * writes to a response, and the few calls that decide everything else. See
 * `docs/writing-an-adapter.md`.
 *
 * @example
 * ```ts
 * import { renderOutcome, startRequest } from 'login-manager/adapter'
 * ```
 * @module
 */
export type { GuardedAuth, RequestAuth } from '../core/auth.ts'
export type { LoginManager } from '../core/login-manager.ts'
export { encodeLocation } from '../core/next-url.ts'
export type { AuthOutcome } from '../core/outcome.ts'
export type { ErrorCode } from '../shared/errors.ts'
export { LoginManagerError } from '../shared/errors.ts'
export type { UserId } from '../shared/types.ts'
export { RequestCycle, startRequest } from './cycle.ts'
export { STORE_UNAVAILABLE } from './failure.ts'
export { assertGuardCalled, guardNotCalled, middlewareMissing, notGuarded } from './misuse.ts'
export { renderOutcome } from './render.ts'
export type { AdapterRequest, Reply, ResponseFinish } from './types.ts'
export { addVaryCookie } from './vary.ts'
