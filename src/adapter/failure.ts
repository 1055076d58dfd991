import type { AuthOutcome } from '../core/outcome.ts'
import type { Reply } from './types.ts'

const BODY = 'Service Unavailable: the session store cannot be reached'

/**
 * The one failure rule: what a request gets when the session store cannot be reached and the
 * response depends on it (a write after the handler answered, a load with `onStoreError:
 * 'fail'`, a remember-me restore). It replaces the app's response entirely, on every adapter:
 * none of the app's headers survive, since they described a response that is not sent (a JSON
 * content type over this text, a cookie the store never saw, a CORS grant for a failed request).
 */
export const STORE_UNAVAILABLE: Reply = Object.freeze({
  status: 503,
  headers: Object.freeze({
    'content-type': 'text/plain; charset=utf-8',
    'retry-after': '5',
    'cache-control': 'no-store',
    vary: 'Cookie',
  }),
  body: BODY,
})

/** Whether a guard's outcome is the core's store-unavailable answer (a failed remember-me restore). */
export function isStoreUnavailable(outcome: AuthOutcome): boolean {
  return outcome.type === 'respond' && outcome.status === 503 && outcome.body === BODY
}

/** The {@link STORE_UNAVAILABLE} reply for a store write's failure, `null` for its success. */
export function writeResult(failure: AuthOutcome | null): Reply | null {
  return failure === null ? null : STORE_UNAVAILABLE
}
