/**
 * Paired in-process measurement for the micro-benchmarks beside it: each case runs with and
 * without the optimisation it justifies, in interleaved batches (so background load hits both
 * alike), and the best batch of each is reported as operations per second with the ratio.
 */

const BATCHES = Number(process.env.MICRO_BATCHES ?? 25)
const TARGET_BATCH_MS = 20

let sink: unknown

/** Keeps results alive so the JIT cannot drop the work. */
export function consume(value: unknown): void {
  sink = value
}

async function timeBatch(fn: () => unknown, n: number, async: boolean): Promise<number> {
  const start = process.hrtime.bigint()
  if (async) for (let i = 0; i < n; i++) sink = await fn()
  else for (let i = 0; i < n; i++) sink = fn()
  return Number(process.hrtime.bigint() - start)
}

async function calibrate(fn: () => unknown, async: boolean): Promise<number> {
  let n = 64
  while ((await timeBatch(fn, n, async)) < TARGET_BATCH_MS * 1e6 && n < 1e7) n *= 2
  return n
}

/** Runs `withIt` and `without` in interleaved batches and prints their best rates. */
export async function pair(
  label: string,
  withIt: () => unknown,
  without: () => unknown,
  options: { async?: boolean } = {},
): Promise<void> {
  const async = options.async === true
  const nWith = await calibrate(withIt, async)
  const nWithout = await calibrate(without, async)
  let bestWith = Number.POSITIVE_INFINITY
  let bestWithout = Number.POSITIVE_INFINITY
  for (let b = 0; b < BATCHES; b++) {
    bestWith = Math.min(bestWith, (await timeBatch(withIt, nWith, async)) / nWith)
    bestWithout = Math.min(bestWithout, (await timeBatch(without, nWithout, async)) / nWithout)
  }
  const rate = (ns: number) => `${(1e9 / ns / 1e6).toFixed(2).padStart(8)} M ops/s`
  console.log(
    `${label.padEnd(58)} with ${rate(bestWith)}   without ${rate(bestWithout)}   ×${(bestWithout / bestWith).toFixed(1)}`,
  )
  if (sink === Symbol.for('never')) console.log(sink)
}
