import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { PATH, USER_AGENT } from './contenders.ts'

export interface LoadOptions {
  readonly connections: number
  readonly pipelining: number
  readonly durationSeconds: number
  /** Cap on requests per second over all connections (open-ended when absent). */
  readonly overallRate?: number
}

export interface RunResult {
  /** Requests completed over the run's measured duration. */
  readonly requestsPerSecond: number
  /**
   * Standard deviation of the requests completed in each whole second of the run: high when
   * something disturbed it.
   */
  readonly requestsPerSecondStdDev: number
  /**
   * autocannon's own mean (`requests.average`): the mean of its per-second samples, which include
   * a last, partial second, so it reads a few % low.
   */
  readonly autocannonMeanRequestsPerSecond: number
  /** Requests completed in each whole second of the run. */
  readonly perSecond: readonly number[]
  readonly totalRequests: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  readonly latencyMeanMs: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  /** Responses larger than the smallest one: a re-issued cookie would show up here. */
  readonly largerResponses: number
  /**
   * CPU time (user + system) the server process spent per request during the run, in µs, or null
   * where /proc is not available. Unlike req/s, it barely moves when other processes compete.
   */
  readonly serverCpuMicrosecondsPerRequest: number | null
}

let clockTicks: number | undefined

/** CPU time used so far by process `pid`, in µs (Linux /proc), or null when unavailable. */
export function processCpuMicroseconds(pid: number | undefined): number | null {
  if (pid === undefined || process.platform !== 'linux') return null
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicks : null
  } catch {
    return null
  }
}

/** The request a run sends, when it is not `GET` {@link PATH}. */
export interface Target {
  readonly path: string
  readonly method: 'GET' | 'POST'
  /** Sent with every request (with its content type among the headers). */
  readonly body?: string
}

/**
 * One autocannon run against `url` + {@link PATH} (or `target`) with the given request headers;
 * with `serverPid`, also the server's CPU time per request.
 */
export async function measure(
  url: string,
  headers: Record<string, string>,
  load: LoadOptions,
  serverPid?: number,
  target: Target = { path: PATH, method: 'GET' },
): Promise<RunResult> {
  let smallest = Number.POSITIVE_INFINITY
  const sizes = new Map<number, number>()
  let instance: autocannon.Instance | undefined
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}${target.path}`,
        method: target.method,
        ...(target.body === undefined ? {} : { body: target.body }),
        connections: load.connections,
        pipelining: load.pipelining,
        duration: load.durationSeconds,
        ...(load.overallRate === undefined ? {} : { overallRate: load.overallRate }),
        headers: { 'user-agent': USER_AGENT, ...headers },
      },
      (error: unknown, result) => (error ? reject(error) : resolve(result)),
    )
  })
  const start = performance.now()
  const perSecond: number[] = []
  instance?.on('response', (_client, _status, bytes) => {
    sizes.set(bytes, (sizes.get(bytes) ?? 0) + 1)
    if (bytes < smallest) smallest = bytes
    const second = Math.floor((performance.now() - start) / 1000)
    perSecond[second] = (perSecond[second] ?? 0) + 1
  })
  const cpuBefore = processCpuMicroseconds(serverPid)
  const result = await done
  const cpuAfter = processCpuMicroseconds(serverPid)
  let largerResponses = 0
  for (const [size, count] of sizes) if (size > smallest) largerResponses += count
  // Whole seconds only: the last one is cut short by the end of the run.
  const whole = Array.from(
    { length: Math.min(perSecond.length, Math.floor(result.duration)) },
    (_, i) => perSecond[i] ?? 0,
  )
  const mean = whole.reduce((a, b) => a + b, 0) / Math.max(1, whole.length)
  const variance = whole.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, whole.length)
  return {
    requestsPerSecond: result.duration > 0 ? result.requests.total / result.duration : 0,
    requestsPerSecondStdDev: Math.sqrt(variance),
    autocannonMeanRequestsPerSecond: result.requests.average,
    perSecond: whole,
    totalRequests: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    largerResponses,
    serverCpuMicrosecondsPerRequest:
      cpuBefore === null || cpuAfter === null || result.requests.total === 0
        ? null
        : (cpuAfter - cpuBefore) / result.requests.total,
  }
}
