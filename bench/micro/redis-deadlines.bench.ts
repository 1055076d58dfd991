/**
 * One deadline timer per store (`Deadlines` in src/stores/unavailable.ts, used by RedisStore and
 * the SQL stores) against a `setTimeout` / `clearTimeout` pair per command, around a command
 * that answers at once.
 *
 *   npx tsx --conditions=login-manager-source bench/micro/redis-deadlines.bench.ts
 */
import { Deadlines } from '../../src/stores/unavailable.ts'
import { pair } from './pair.ts'

const TIMEOUT = 2000
const deadlines = new Deadlines(TIMEOUT)
const reply = () => Promise.resolve('OK')

function withDeadlines(): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const entry = deadlines.add(() => reject(new Error('timeout')))
    reply().then((value) => {
      if (deadlines.settle(entry)) resolve(value)
    })
  })
}

function withTimerEach(): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), TIMEOUT)
    timer.unref()
    reply().then((value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

await pair('a command with a timeout, answered at once', withDeadlines, withTimerEach, {
  async: true,
})
