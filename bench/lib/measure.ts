import autocannon from 'autocannon'
import { PATH, USER_AGENT } from './contenders.ts'

export interface LoadOptions {
  readonly connections: number
  readonly pipelining: number
  readonly durationSeconds: number
}

export interface RunResult {
  /** Mean of autocannon's per-second request counts. */
  readonly requestsPerSecond: number
  readonly totalRequests: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  readonly latencyMeanMs: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  /** Responses larger than the smallest one: a re-issued cookie would show up here. */
  readonly largerResponses: number
}

/** One autocannon run against `url` + {@link PATH} with the given request headers. */
export async function measure(
  url: string,
  headers: Record<string, string>,
  load: LoadOptions,
): Promise<RunResult> {
  let smallest = Number.POSITIVE_INFINITY
  const sizes = new Map<number, number>()
  let instance: autocannon.Instance | undefined
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}${PATH}`,
        connections: load.connections,
        pipelining: load.pipelining,
        duration: load.durationSeconds,
        headers: { 'user-agent': USER_AGENT, ...headers },
      },
      (error: unknown, result) => (error ? reject(error) : resolve(result)),
    )
  })
  instance?.on('response', (_client, _status, bytes) => {
    sizes.set(bytes, (sizes.get(bytes) ?? 0) + 1)
    if (bytes < smallest) smallest = bytes
  })
  const result = await done
  let largerResponses = 0
  for (const [size, count] of sizes) if (size > smallest) largerResponses += count
  return {
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    largerResponses,
  }
}
