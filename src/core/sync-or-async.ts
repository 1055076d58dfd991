import type { MaybePromise } from '../shared/types.ts'

/**
 * Runs a generator that yields values which may be promises, staying synchronous for as long as
 * nothing yielded is a promise. This lets one user-loading algorithm serve both the synchronous
 * `auth.user` (sync loaders, cookie sessions) and the asynchronous `auth.getUser()`.
 */
export function runSyncOrAsync<T>(gen: Generator<unknown, T, unknown>): MaybePromise<T> {
  let input: unknown
  for (;;) {
    const step = gen.next(input)
    if (step.done) return step.value
    if (step.value instanceof Promise) return continueAsync(gen, step.value)
    input = step.value
  }
}

async function continueAsync<T>(gen: Generator<unknown, T, unknown>, pending: Promise<unknown>) {
  let step: IteratorResult<unknown, T>
  try {
    step = gen.next(await pending)
  } catch (error) {
    step = gen.throw(error)
  }
  while (!step.done) {
    try {
      step = gen.next(await step.value)
    } catch (error) {
      step = gen.throw(error)
    }
  }
  return step.value
}
