/**
 * `npm run bench`: throughput of the basic example's protected route under login-manager, against
 * bare Express (without a cookie, and given login-manager's very request headers), the middleware
 * layout of login-manager, and passport + express-session, in one run. See bench/README.md.
 *
 * Each server runs in its own child process (pinned to one core with `taskset` when available);
 * autocannon runs here, on the other core. Results go to stdout and bench/results/latest.json.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import {
  type ContenderKey,
  contenders,
  cookieBytes,
  headersFor,
  PATH,
  USER_AGENT,
  verify,
} from './lib/contenders.ts'
import { measure, type RunResult } from './lib/measure.ts'
import {
  choosePinning,
  ROOT,
  serverPool,
  stopAllServers,
  stopServersOnExit,
} from './lib/processes.ts'

const RESULTS_FILE = join(ROOT, 'bench', 'results', 'latest.json')

/** login-manager must keep at least this share of bare Express's throughput. */
const BUDGET = 0.95
/** Rounds of one contender further apart than this (max/min − 1) make the comparison unreliable. */
const MAX_ROUND_SPREAD = 0.1
/** So does a run whose per-second throughput varies more than this (stddev/mean). */
const MAX_RUN_VARIATION = 0.15

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`)
  }
  return value
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
}

function table(rows: readonly (readonly string[])[], rightAligned: readonly boolean[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
  const [head, ...body] = rows
  return [line(head!), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

async function main(): Promise<void> {
  const settings = {
    path: PATH,
    connections: intFromEnv('BENCH_CONNECTIONS', 10, 1),
    pipelining: 1,
    durationSeconds: intFromEnv('BENCH_DURATION', 10, 1),
    warmupSeconds: intFromEnv('BENCH_WARMUP', 2, 0),
    rounds: intFromEnv('BENCH_ROUNDS', 2, 1),
    /** Extra paired runs (0 = off): each contender at the same time as bare, on the same core. */
    pairedRounds: intFromEnv('BENCH_PAIRED', 0, 0),
  }
  stopServersOnExit()
  const pinning = choosePinning()
  const secret = randomBytes(32).toString('base64url')
  const list = contenders(secret)
  const cpus = os.cpus()
  const loadBefore = os.loadavg()

  console.log(
    `login-manager bench: GET ${settings.path}, ${settings.connections} connections, ` +
      `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per run, ` +
      `${settings.rounds} round(s); node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}`,
  )
  console.log(
    pinning.server === null
      ? 'CPU pinning: off (needs Linux, taskset and 2 cores; BENCH_PIN=0 turns it off)'
      : `CPU pinning: servers on core ${pinning.server}, autocannon on core ${pinning.client ?? 'any'}`,
  )
  if (loadBefore[0]! > 0.5) {
    console.log(
      `Warning: load average is ${fmt(loadBefore[0]!, 2)} before starting; other processes ` +
        'compete for the cores, so expect noisy numbers.',
    )
  }

  // One process per contender: "bare Express, same request" is a second bare.ts process, and each
  // sequential measurement runs with its server alone (see serverPool).
  const find = (key: string) => {
    const c = list.find((x) => x.key === key)
    if (c === undefined) throw new Error(`${key} is not a contender`)
    return c
  }
  const { ensure, urlOf, stopAll } = serverPool(find, secret, pinning.server)
  /** Bytes of the Cookie header each contender was last loaded with. */
  const cookieHeaderBytes = new Map<ContenderKey, number>()
  const pad = Math.max(...list.map((c) => c.label.length))

  const runs = new Map<ContenderKey, RunResult[]>(list.map((c) => [c.key, []]))
  for (let round = 1; round <= settings.rounds; round++) {
    // Alternate the order so that no contender always runs first (or last) in a round.
    const order = round % 2 === 1 ? list : [...list].reverse()
    for (const contender of order) {
      const source = (contender.headersFrom ?? contender.key) as ContenderKey
      await ensure(source)
      const headers = await headersFor(contender, list, urlOf)
      if (source !== contender.key) await stopAll()
      const server = await ensure(contender.key)
      cookieHeaderBytes.set(contender.key, cookieBytes(headers))
      await verify(contender, server.url, headers)
      if (settings.warmupSeconds > 0) {
        await measure(server.url, headers, { ...settings, durationSeconds: settings.warmupSeconds })
      }
      const run = await measure(server.url, headers, settings, server.child.pid)
      if (run.non2xx > 0 || run.errors > 0 || run.timeouts > 0) {
        throw new Error(
          `${contender.label}: ${run.non2xx} non-2xx responses, ${run.errors} errors and ` +
            `${run.timeouts} timeouts in round ${round}; the numbers would be meaningless` +
            (server.stderr === '' ? '' : `\n--- server stderr ---\n${server.stderr}`),
        )
      }
      // Still logged in after the run, and still not re-issuing cookies.
      await verify(contender, server.url, headers)
      await stopAll()
      runs.get(contender.key)!.push(run)
      console.log(
        `  round ${round}/${settings.rounds}  ${contender.label.padEnd(pad)} ` +
          `${fmt(run.requestsPerSecond).padStart(7)} req/s   p50 ${run.latencyP50Ms} ms   p99 ${run.latencyP99Ms} ms` +
          (run.serverCpuMicrosecondsPerRequest === null
            ? ''
            : `   server CPU ${fmt(run.serverCpuMicrosecondsPerRequest, 1)} µs/req`),
      )
    }
  }

  // Paired runs: a contender and bare Express loaded at the same time, sharing the server core.
  // Whatever else slows the machine down slows both alike, so their ratio is far steadier than
  // the ratio of two runs made one after the other (see bench/README.md). "bare Express, same
  // request" is paired with bare Express too (with login-manager's headers; bare without).
  const paired = new Map<
    ContenderKey,
    { ratios: number[]; cpuRatios: number[]; serverCoreBusy: number[] }
  >()
  if (settings.pairedRounds > 0) {
    console.log(
      `\nPaired with bare Express (both at once, sharing core ${pinning.server ?? 'any'}):`,
    )
    const bareContender = list.find((c) => c.key === 'bare')!
    for (const contender of list.filter((c) => c.key !== 'bare')) {
      // Paired rounds load two servers at once by design; both are started fresh together.
      await stopAll()
      if (contender.headersFrom !== undefined) await ensure(contender.headersFrom)
      const bareServer = await ensure('bare')
      const server = await ensure(contender.key)
      const ratios: number[] = []
      const cpuRatios: number[] = []
      const serverCoreBusy: number[] = []
      for (let round = 0; round <= settings.pairedRounds; round++) {
        const headers = await headersFor(contender, list, urlOf)
        await verify(contender, server.url, headers)
        // Round 0 is the warm-up.
        const load = {
          ...settings,
          durationSeconds:
            round === 0 ? Math.max(1, settings.warmupSeconds) : settings.durationSeconds,
        }
        const [base, other] = await Promise.all([
          measure(bareServer.url, {}, load, bareServer.child.pid),
          measure(server.url, headers, load, server.child.pid),
        ])
        for (const [c, run] of [
          [bareContender, base],
          [contender, other],
        ] as const) {
          if (run.non2xx > 0 || run.errors > 0 || run.timeouts > 0) {
            throw new Error(
              `${c.label}: ${run.non2xx} non-2xx, ${run.errors} errors in a paired run`,
            )
          }
        }
        if (round === 0) continue
        ratios.push(other.requestsPerSecond / base.requestsPerSecond)
        const baseCpu = base.serverCpuMicrosecondsPerRequest
        const otherCpu = other.serverCpuMicrosecondsPerRequest
        if (baseCpu !== null && otherCpu !== null) {
          cpuRatios.push(baseCpu / otherCpu)
          // Share of the server core both used: well under 1, the load generator was the limit.
          // autocannon's runs last a little longer than asked: divide by the time they took.
          const seconds = Math.max(
            base.totalRequests / base.requestsPerSecond,
            other.totalRequests / other.requestsPerSecond,
          )
          serverCoreBusy.push(
            (baseCpu * base.totalRequests + otherCpu * other.totalRequests) / (seconds * 1e6),
          )
        }
      }
      paired.set(contender.key, { ratios, cpuRatios, serverCoreBusy })
      const cpu =
        cpuRatios.length === 0
          ? ''
          : `; by server CPU per request ${fmt(100 * median(cpuRatios), 1)}%, ` +
            `server core ${fmt(100 * median(serverCoreBusy), 0)}% busy`
      console.log(
        `  ${contender.label.padEnd(pad)} ${fmt(100 * median(ratios), 1).padStart(5)}% of bare ` +
          `(rounds: ${ratios.map((r) => `${fmt(100 * r, 1)}%`).join(', ')})${cpu}`,
      )
      if (serverCoreBusy.length > 0 && median(serverCoreBusy) < 0.9) {
        console.log(
          '    the two servers did not get their whole core (other processes used it, or the load ' +
            'generator could not keep up, which pulls the ratio towards 100%): prefer the CPU ratio',
        )
      }
    }
  }
  const loadAfter = os.loadavg()

  const perRequestUs = (rps: number) => 1e6 / rps
  const medians = list.map((contender) => {
    const rs = runs.get(contender.key)!
    return {
      key: contender.key,
      label: contender.label,
      role: contender.role,
      file: contender.file,
      /** Bytes of the Cookie header this contender was loaded with (0: none). */
      cookieHeaderBytes: cookieHeaderBytes.get(contender.key) ?? 0,
      requestsPerSecond: median(rs.map((r) => r.requestsPerSecond)),
      latencyP50Ms: median(rs.map((r) => r.latencyP50Ms)),
      latencyP99Ms: median(rs.map((r) => r.latencyP99Ms)),
      serverCpuMicrosecondsPerRequest: rs.every((r) => r.serverCpuMicrosecondsPerRequest !== null)
        ? median(rs.map((r) => r.serverCpuMicrosecondsPerRequest!))
        : null,
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      /** max/min − 1 of the rounds' req/s. */
      roundSpread:
        Math.max(...rs.map((r) => r.requestsPerSecond)) /
          Math.min(...rs.map((r) => r.requestsPerSecond)) -
        1,
      /** Largest stddev/mean of per-second req/s within one run. */
      maxRunVariation: Math.max(
        ...rs.map((r) => r.requestsPerSecondStdDev / Math.max(1, r.requestsPerSecond)),
      ),
      largerResponses: rs.reduce((n, r) => n + r.largerResponses, 0),
      runs: rs,
    }
  })
  const rpsOf = (key: ContenderKey) => medians.find((m) => m.key === key)!.requestsPerSecond
  const bare = rpsOf('bare')
  const sameRequest = rpsOf('bare-same-request')
  const cpuOf = (key: ContenderKey) =>
    medians.find((m) => m.key === key)!.serverCpuMicrosecondsPerRequest
  const bareCpu = cpuOf('bare')
  const sameRequestCpu = cpuOf('bare-same-request')
  /** Rows that get login-manager's request headers: they also have a ratio to "same request". */
  const sameHeaders = new Set(['same-request', 'login-manager', 'variant'])
  const results = medians.map((m) => ({
    ...m,
    percentOfBare: (100 * m.requestsPerSecond) / bare,
    /** % of "bare Express, same request" (null for rows loaded with other headers). */
    percentOfSameRequest: sameHeaders.has(m.role)
      ? (100 * m.requestsPerSecond) / sameRequest
      : null,
    microsecondsPerRequest: perRequestUs(m.requestsPerSecond),
    addedMicrosecondsPerRequest: perRequestUs(m.requestsPerSecond) - perRequestUs(bare),
    addedServerCpuMicrosecondsPerRequest:
      m.serverCpuMicrosecondsPerRequest === null || bareCpu === null
        ? null
        : m.serverCpuMicrosecondsPerRequest - bareCpu,
    /** Median of the paired rounds (this contender and bare Express at once), or null. */
    ratioToBarePaired: paired.has(m.key) ? median(paired.get(m.key)!.ratios) : null,
  }))
  const lmCpu = cpuOf('login-manager')
  const pairedOf = (key: ContenderKey) => (paired.has(key) ? median(paired.get(key)!.ratios) : null)
  const lmPaired = pairedOf('login-manager')
  const sameRequestPaired = pairedOf('bare-same-request')
  const ratios = {
    loginManagerToBare: rpsOf('login-manager') / bare,
    /** To bare Express loaded with login-manager's very request headers (its cookie). */
    loginManagerToSameRequest: rpsOf('login-manager') / sameRequest,
    /** What the Cookie header alone leaves of bare Express's throughput. */
    sameRequestToBare: sameRequest / bare,
    loginManagerToPassport: rpsOf('login-manager') / rpsOf('passport'),
    passportToBare: rpsOf('passport') / bare,
    /** The `app.use(login.middleware)` layout. */
    middlewareLayoutToBare: rpsOf('login-manager-middleware') / bare,
    middlewareLayoutToSameRequest: rpsOf('login-manager-middleware') / sameRequest,
    middlewareLayoutToLoginManager: rpsOf('login-manager-middleware') / rpsOf('login-manager'),
    /** bare's server CPU time per request over login-manager's: the same ratio, less noisy. */
    loginManagerToBareByServerCpu: lmCpu === null || bareCpu === null ? null : bareCpu / lmCpu,
    loginManagerToSameRequestByServerCpu:
      lmCpu === null || sameRequestCpu === null ? null : sameRequestCpu / lmCpu,
    /** Median of the paired runs (BENCH_PAIRED), or null when they were not made. */
    loginManagerToBarePaired: lmPaired,
    /** Both paired with bare Express: the ratio of the two medians. */
    loginManagerToSameRequestPaired:
      lmPaired === null || sameRequestPaired === null ? null : lmPaired / sameRequestPaired,
    sameRequestToBarePaired: sameRequestPaired,
    middlewareLayoutToBarePaired: pairedOf('login-manager-middleware'),
    passportToBarePaired: pairedOf('passport'),
  }
  const unsteady = medians.filter(
    (m) => m.roundSpread > MAX_ROUND_SPREAD || m.maxRunVariation > MAX_RUN_VARIATION,
  )
  const budget = {
    /** False when some contender's runs were disturbed (see `unsteady`): measure again. */
    reliable: unsteady.length === 0,
    unsteady: unsteady.map((m) => m.key),
    minimumRatioToBare: BUDGET,
    /** Against bare Express loaded without a cookie (the budget's definition). */
    ratio: ratios.loginManagerToBare,
    /** Added time per request the budget allows at the measured bare throughput. */
    allowedAddedMicroseconds: perRequestUs(bare) * (1 / BUDGET - 1),
    met: ratios.loginManagerToBare >= BUDGET,
    /** Against bare Express given login-manager's request (same cookie, same user agent). */
    ratioToSameRequest: ratios.loginManagerToSameRequest,
    metAgainstSameRequest: ratios.loginManagerToSameRequest >= BUDGET,
  }

  const pct = (ratio: number | null) => (ratio === null ? '—' : `${fmt(100 * ratio, 1)}%`)
  console.log('')
  console.log(
    table(
      [
        [
          'contender',
          'req/s',
          '% of bare',
          '% of same request',
          '+µs/req',
          'p50 ms',
          'p99 ms',
          'server CPU µs/req',
        ],
        ...results.map((r) => [
          r.label,
          fmt(r.requestsPerSecond),
          `${fmt(r.percentOfBare, 1)}%`,
          r.percentOfSameRequest === null ? '—' : `${fmt(r.percentOfSameRequest, 1)}%`,
          r.key === 'bare' ? '—' : fmt(r.addedMicrosecondsPerRequest, 1),
          String(r.latencyP50Ms),
          String(r.latencyP99Ms),
          r.serverCpuMicrosecondsPerRequest === null
            ? 'n/a'
            : fmt(r.serverCpuMicrosecondsPerRequest, 1),
        ]),
      ],
      [false, true, true, true, true, true, true, true],
    ),
  )
  console.log('')
  const lines: [string, number][] = [
    ['login-manager / bare Express', ratios.loginManagerToBare],
    ['login-manager / bare Express, same request', ratios.loginManagerToSameRequest],
    ['bare Express, same request / bare Express', ratios.sameRequestToBare],
    ['login-manager, app.use(middleware) / login-manager', ratios.middlewareLayoutToLoginManager],
    ['login-manager / passport + express-session', ratios.loginManagerToPassport],
  ]
  const width = Math.max(...lines.map(([name]) => name.length)) + 1
  for (const [name, value] of lines) console.log(`${`${name}:`.padEnd(width)} ${fmt(value, 3)}`)
  const lmCookie = cookieHeaderBytes.get('login-manager') ?? 0
  console.log(
    `(login-manager's requests, and those of "bare Express, same request", carry a ` +
      `${lmCookie}-byte Cookie header; bare Express's carry none.)`,
  )
  const flag = budget.reliable ? '' : ' (UNRELIABLE, see below)'
  console.log(
    `Budget ${budget.met ? 'MET' : 'MISSED'}${flag} against bare Express (no cookie): ` +
      `${fmt(100 * budget.ratio, 1)}% (budget ≥ ${100 * BUDGET}%, ` +
      `≤ ${fmt(budget.allowedAddedMicroseconds, 1)} µs added per request here); against bare ` +
      `Express given the same request: ${fmt(100 * budget.ratioToSameRequest, 1)}% ` +
      `(${budget.metAgainstSameRequest ? 'MET' : 'MISSED'}).`,
  )
  for (const m of unsteady) {
    console.log(
      `UNRELIABLE: ${m.label}'s runs were disturbed (rounds ${fmt(100 * m.roundSpread, 0)}% apart, ` +
        `per-second variation up to ${fmt(100 * m.maxRunVariation, 0)}%); the verdict above may be ` +
        'wrong. Measure again on a quieter machine, with more rounds, or with BENCH_PAIRED=5.',
    )
  }
  if (ratios.loginManagerToBareByServerCpu !== null && lmCpu !== null && bareCpu !== null) {
    const same =
      ratios.loginManagerToSameRequestByServerCpu === null || sameRequestCpu === null
        ? ''
        : ` (${fmt(lmCpu - sameRequestCpu, 1)} µs over bare Express given the same request: ` +
          `${fmt(100 * ratios.loginManagerToSameRequestByServerCpu, 1)}%)`
    console.log(
      `Cross-check from server CPU time: login-manager adds ${fmt(lmCpu - bareCpu, 1)} µs of CPU ` +
        `per request, i.e. it would keep ${fmt(100 * ratios.loginManagerToBareByServerCpu, 1)}% ` +
        `of bare Express on an otherwise idle core${same}.`,
    )
  }
  if (ratios.loginManagerToBarePaired !== null) {
    const same =
      ratios.loginManagerToSameRequestPaired === null
        ? ''
        : `; ${pct(ratios.loginManagerToSameRequestPaired)} of bare Express given the same ` +
          `request (ratio of the two paired medians)`
    console.log(
      `Paired cross-check: login-manager keeps ${pct(ratios.loginManagerToBarePaired)} of bare ` +
        `Express when both run at once (${settings.pairedRounds} paired rounds)${same}.`,
    )
  }
  for (const r of results) {
    if ((r.role === 'login-manager' || r.role === 'variant') && r.largerResponses > 0) {
      console.log(
        `Note: ${r.largerResponses} ${r.label} responses were larger than the rest (cookies?).`,
      )
    }
  }

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    os: {
      platform: process.platform,
      release: os.release(),
      arch: process.arch,
      cpuModel: cpus[0]?.model ?? null,
      cpuCount: cpus.length,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
    },
    settings: { ...settings, pinning, userAgent: USER_AGENT },
    results: Object.fromEntries(results.map(({ key, ...rest }) => [key, rest])),
    ratios,
    budget,
    paired: Object.fromEntries(paired),
  }
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true })
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`)
  console.log('\nWrote bench/results/latest.json')
}

try {
  await main()
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exitCode = 1
} finally {
  stopAllServers()
}
