/**
 * `npm run bench:frameworks`: per framework (Hono, Fastify, Koa, the Fetch adapter), throughput of
 * a protected route bare (without a cookie, and given login-manager's very request headers), under
 * login-manager (and, on Hono, its middleware layout) and under that framework's usual session
 * package, in one run. See bench/FRAMEWORKS.md.
 *
 * The method is bench/run.ts's (and reuses bench/lib): each server in its own child process pinned
 * to one core with `taskset`, autocannon here on the other core, same environment variables,
 * warm-up before every run, rounds in alternating order, medians over rounds, optional paired
 * rounds. Results go to stdout and bench/results/frameworks.json.
 *
 * The harness (`runGroup`, `printGroup`, …) is exported for bench/redis.ts; `main` runs only when
 * this file is the entry point.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  bareContenders,
  cookieBytes,
  FORM_TYPE,
  headersFor,
  verify as libVerify,
  PATH,
  type Role,
  testLoginPrepare,
  USER_AGENT,
} from './lib/contenders.ts'
import { LOGIN_FORM } from './lib/form.ts'
import { measure, type RunResult } from './lib/measure.ts'
import {
  choosePinning,
  type Pinning,
  ROOT,
  type ServerProcess,
  serverPool,
  stopAllServers,
  stopServersOnExit,
} from './lib/processes.ts'

// ---------------------------------------------------------------------------------------------
// Harness (shared with bench/redis.ts)
// ---------------------------------------------------------------------------------------------

export type { Role }
export { testLoginPrepare }

export interface Contender {
  /** Unique within its group (used in the JSON report). */
  readonly key: string
  readonly label: string
  readonly role: Role
  /** The server, relative to the repository root. */
  readonly file: string
  /** Extra environment for the server (besides BENCH_SECRET). */
  readonly env?: Record<string, string>
  /** Headers of a logged-in client. Called before every measurement. */
  readonly prepare: (url: string) => Promise<Record<string, string>>
  /**
   * Load this contender with the headers of the contender with this key (that contender's
   * `prepare`, against that contender's server): the `same-request` reference uses it.
   */
  readonly headersFrom?: string
}

export interface Group {
  readonly key: string
  readonly title: string
  /**
   * Exactly one contender has role `bare`: the reference of every "% of bare". At most one has
   * role `same-request` (the bare server loaded with login-manager's headers): the reference of
   * "% of same request", given for the rows loaded with those headers (`login-manager`, `variant`).
   */
  readonly contenders: readonly Contender[]
}

export interface Settings {
  readonly path: string
  readonly connections: number
  readonly pipelining: number
  readonly durationSeconds: number
  readonly warmupSeconds: number
  readonly rounds: number
  readonly pairedRounds: number
}

export interface ContenderResult {
  readonly key: string
  readonly label: string
  readonly role: Role
  readonly file: string
  /** Bytes of the Cookie header this contender was loaded with (0: none). */
  readonly cookieHeaderBytes: number
  readonly requestsPerSecond: number
  readonly percentOfBare: number
  /**
   * % of the `same-request` contender (bare given login-manager's request headers), for the rows
   * loaded with those headers; null for the others, or when the group has no such contender.
   */
  readonly percentOfSameRequest: number | null
  readonly microsecondsPerRequest: number
  readonly addedMicrosecondsPerRequest: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  readonly serverCpuMicrosecondsPerRequest: number | null
  /** bare's server CPU per request over this contender's: the throughput share on an idle core. */
  readonly ratioToBareByServerCpu: number | null
  /** The same against the `same-request` contender (where `percentOfSameRequest` is given). */
  readonly ratioToSameRequestByServerCpu: number | null
  /** Median of the paired rounds (this contender and bare loaded at once), or null. */
  readonly ratioToBarePaired: number | null
  readonly pairedRatios: readonly number[]
  readonly largerResponses: number
  readonly runs: readonly RunResult[]
}

export interface GroupResult {
  readonly key: string
  readonly title: string
  readonly results: readonly ContenderResult[]
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`)
  }
  return value
}

/** bench/run.ts's settings, from the same environment variables with the same defaults. */
export function settingsFromEnv(): Settings {
  return {
    path: PATH,
    connections: intFromEnv('BENCH_CONNECTIONS', 10, 1),
    pipelining: 1,
    durationSeconds: intFromEnv('BENCH_DURATION', 10, 1),
    warmupSeconds: intFromEnv('BENCH_WARMUP', 2, 0),
    rounds: intFromEnv('BENCH_ROUNDS', 2, 1),
    pairedRounds: intFromEnv('BENCH_PAIRED', 0, 0),
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function fmt(value: number, digits = 0): string {
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

/** The `name=value` part of each Set-Cookie header, joined for a Cookie header. */
function cookieHeader(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';', 1)[0]!)
    .join('; ')
}

/**
 * A client that logs in over HTTP (`POST /login` with the login form) and keeps the session cookie, as
 * bench/run.ts does for passport.
 */
export function loginOverHttp(label: string): (url: string) => Promise<Record<string, string>> {
  return async (url) => {
    const response = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'user-agent': USER_AGENT, 'content-type': FORM_TYPE },
      body: LOGIN_FORM,
      redirect: 'manual',
    })
    const body = await response.text()
    const cookie = cookieHeader(response)
    if (response.status < 200 || response.status >= 300 || cookie === '') {
      throw new Error(
        `${label}: POST /login answered ${response.status} ${JSON.stringify(body.slice(0, 200))} ` +
          'with no session cookie',
      )
    }
    return { cookie }
  }
}

/** bench/lib/contenders.ts's check (200, the logged-in body, no Set-Cookie). */
const verify = libVerify

/** Roles loaded with login-manager's request headers: they get a ratio to "same request". */
const SAME_HEADERS: ReadonlySet<Role> = new Set(['same-request', 'login-manager', 'variant'])

function checkRun(c: Contender, run: RunResult, server: ServerProcess, when: string): void {
  if (run.non2xx > 0 || run.errors > 0 || run.timeouts > 0) {
    throw new Error(
      `${c.label}: ${run.non2xx} non-2xx responses, ${run.errors} errors and ` +
        `${run.timeouts} timeouts ${when}; the numbers would be meaningless` +
        (server.stderr === '' ? '' : `\n--- server stderr ---\n${server.stderr}`),
    )
  }
}

/**
 * Measures one group the way bench/run.ts measures Express: all its servers started (pinned),
 * then `rounds` rounds, each contender verified, warmed up, measured and verified again, in
 * reverse order every other round; then the paired rounds. The servers are stopped at the end,
 * also on errors.
 */
export async function runGroup(
  group: Group,
  settings: Settings,
  pinning: Pinning,
  secret: string,
): Promise<GroupResult> {
  const bare = group.contenders.find((c) => c.role === 'bare')
  if (bare === undefined) throw new Error(`${group.title}: no bare contender`)
  const sameRequest = group.contenders.find((c) => c.role === 'same-request')
  // One process per contender: the `same-request` reference is a second bare server process, and
  // each sequential measurement runs with its server alone (see serverPool).
  const find = (key: string) => {
    const c = group.contenders.find((x) => x.key === key)
    if (c === undefined) throw new Error(`${group.title}: ${key} is not a contender`)
    return c
  }
  const { ensure, urlOf, stopAll } = serverPool(find, secret, pinning.server)
  /** Bytes of the Cookie header each contender was last loaded with. */
  const cookieHeaderBytes = new Map<string, number>()
  const pad = Math.max(...group.contenders.map((c) => c.label.length))
  try {
    const runs = new Map<string, RunResult[]>(group.contenders.map((c) => [c.key, []]))
    for (let round = 1; round <= settings.rounds; round++) {
      const order = round % 2 === 1 ? group.contenders : [...group.contenders].reverse()
      for (const c of order) {
        // The headers come from the contender's own server, or from the one it borrows them from
        // (started for that, then stopped before the measured server starts).
        const source = c.headersFrom ?? c.key
        await ensure(source)
        const headers = await headersFor(c, group.contenders, urlOf)
        if (source !== c.key) await stopAll()
        const server = await ensure(c.key)
        cookieHeaderBytes.set(c.key, cookieBytes(headers))
        await verify(c, server.url, headers)
        if (settings.warmupSeconds > 0) {
          const warm = await measure(server.url, headers, {
            ...settings,
            durationSeconds: settings.warmupSeconds,
          })
          checkRun(c, warm, server, `in the warm-up of round ${round}`)
        }
        const run = await measure(server.url, headers, settings, server.child.pid)
        checkRun(c, run, server, `in round ${round}`)
        await verify(c, server.url, headers)
        await stopAll()
        runs.get(c.key)!.push(run)
        console.log(
          `  round ${round}/${settings.rounds}  ${c.label.padEnd(pad)} ` +
            `${fmt(run.requestsPerSecond).padStart(7)} req/s   p50 ${run.latencyP50Ms} ms   p99 ${run.latencyP99Ms} ms` +
            (run.serverCpuMicrosecondsPerRequest === null
              ? ''
              : `   server CPU ${fmt(run.serverCpuMicrosecondsPerRequest, 1)} µs/req`),
        )
      }
    }

    const paired = new Map<string, number[]>()
    if (settings.pairedRounds > 0) {
      console.log(
        `  paired with ${bare.label} (both at once, sharing core ${pinning.server ?? 'any'}):`,
      )
      for (const c of group.contenders.filter((x) => x.role !== 'bare')) {
        // Paired rounds load two servers at once by design; both are started fresh together.
        await stopAll()
        if (c.headersFrom !== undefined) await ensure(c.headersFrom)
        const bareServer = await ensure(bare.key)
        const server = await ensure(c.key)
        const ratios: number[] = []
        for (let round = 0; round <= settings.pairedRounds; round++) {
          // The same-request reference too: with login-manager's headers, bare without.
          const headers = await headersFor(c, group.contenders, urlOf)
          await verify(c, server.url, headers)
          const load = {
            ...settings,
            durationSeconds:
              round === 0 ? Math.max(1, settings.warmupSeconds) : settings.durationSeconds,
          }
          const [base, other] = await Promise.all([
            measure(bareServer.url, {}, load),
            measure(server.url, headers, load),
          ])
          checkRun(bare, base, bareServer, 'in a paired run')
          checkRun(c, other, server, 'in a paired run')
          if (round > 0) ratios.push(other.requestsPerSecond / base.requestsPerSecond)
        }
        paired.set(c.key, ratios)
        console.log(
          `    ${c.label.padEnd(pad)} ${fmt(100 * median(ratios), 1).padStart(5)}% of bare ` +
            `(rounds: ${ratios.map((r) => `${fmt(100 * r, 1)}%`).join(', ')})`,
        )
      }
    }

    const medianOf = (key: string) => {
      const rs = runs.get(key)!
      return {
        rps: median(rs.map((r) => r.requestsPerSecond)),
        cpu: rs.every((r) => r.serverCpuMicrosecondsPerRequest !== null)
          ? median(rs.map((r) => r.serverCpuMicrosecondsPerRequest!))
          : null,
      }
    }
    const bareMedian = medianOf(bare.key)
    const sameMedian = sameRequest === undefined ? null : medianOf(sameRequest.key)
    const results = group.contenders.map((c): ContenderResult => {
      const rs = runs.get(c.key)!
      const { rps, cpu } = medianOf(c.key)
      const pairedRatios = paired.get(c.key) ?? []
      const same = sameMedian !== null && SAME_HEADERS.has(c.role) ? sameMedian : null
      return {
        key: c.key,
        label: c.label,
        role: c.role,
        file: c.file,
        cookieHeaderBytes: cookieHeaderBytes.get(c.key) ?? 0,
        requestsPerSecond: rps,
        percentOfBare: (100 * rps) / bareMedian.rps,
        percentOfSameRequest: same === null ? null : (100 * rps) / same.rps,
        microsecondsPerRequest: 1e6 / rps,
        addedMicrosecondsPerRequest: 1e6 / rps - 1e6 / bareMedian.rps,
        latencyP50Ms: median(rs.map((r) => r.latencyP50Ms)),
        latencyP99Ms: median(rs.map((r) => r.latencyP99Ms)),
        serverCpuMicrosecondsPerRequest: cpu,
        ratioToBareByServerCpu:
          cpu === null || bareMedian.cpu === null ? null : bareMedian.cpu / cpu,
        ratioToSameRequestByServerCpu:
          same === null || cpu === null || same.cpu === null ? null : same.cpu / cpu,
        ratioToBarePaired: pairedRatios.length > 0 ? median(pairedRatios) : null,
        pairedRatios,
        largerResponses: rs.reduce((n, r) => n + r.largerResponses, 0),
        runs: rs,
      }
    })
    return { key: group.key, title: group.title, results }
  } finally {
    await stopAll()
  }
}

/**
 * The group's table: one row per contender, ratios to the bare contender (and, for the rows given
 * login-manager's request headers, to the `same-request` contender).
 */
export function printGroup(result: GroupResult): void {
  const anyPaired = result.results.some((r) => r.ratioToBarePaired !== null)
  const anySame = result.results.some((r) => r.percentOfSameRequest !== null)
  console.log('')
  console.log(
    table(
      [
        [
          result.title,
          'req/s',
          '% of bare',
          ...(anySame ? ['% of same request'] : []),
          '+µs/req',
          'p50 ms',
          'p99 ms',
          'server CPU µs/req',
          '% of bare by CPU',
          ...(anyPaired ? ['% of bare, paired'] : []),
        ],
        ...result.results.map((r) => [
          r.label,
          fmt(r.requestsPerSecond),
          `${fmt(r.percentOfBare, 1)}%`,
          ...(anySame
            ? [r.percentOfSameRequest === null ? '—' : `${fmt(r.percentOfSameRequest, 1)}%`]
            : []),
          r.role === 'bare' ? '—' : fmt(r.addedMicrosecondsPerRequest, 1),
          String(r.latencyP50Ms),
          String(r.latencyP99Ms),
          r.serverCpuMicrosecondsPerRequest === null
            ? 'n/a'
            : fmt(r.serverCpuMicrosecondsPerRequest, 1),
          r.role === 'bare' || r.ratioToBareByServerCpu === null
            ? '—'
            : `${fmt(100 * r.ratioToBareByServerCpu, 1)}%`,
          ...(anyPaired
            ? [r.ratioToBarePaired === null ? '—' : `${fmt(100 * r.ratioToBarePaired, 1)}%`]
            : []),
        ]),
      ],
      [false, true, true, true, true, true, true, true, true, true],
    ),
  )
  const same = result.results.find((r) => r.role === 'same-request')
  if (same !== undefined) {
    console.log(
      `(login-manager's requests, and those of "${same.label}", carry a ` +
        `${same.cookieHeaderBytes}-byte Cookie header; ` +
        `${result.results.find((r) => r.role === 'bare')!.label}'s carry none.)`,
    )
  }
  for (const r of result.results) {
    if (r.largerResponses > 0) {
      console.log(
        `Note: ${r.largerResponses} ${r.label} responses were larger than the rest (cookies?).`,
      )
    }
  }
}

/** Facts about the machine and the run, for the JSON reports. */
export function environment(loadBefore: number[], settings: Settings, pinning: Pinning) {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    os: {
      platform: process.platform,
      release: os.release(),
      arch: process.arch,
      cpuModel: cpus[0]?.model ?? null,
      cpuCount: cpus.length,
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg(),
    },
    settings: { ...settings, pinning, userAgent: USER_AGENT },
  }
}

/** Prints the run's settings, pinning and load average (with bench/run.ts's warning above 0.5). */
export function printPreamble(name: string, settings: Settings, pinning: Pinning): number[] {
  const cpus = os.cpus()
  const load = os.loadavg()
  console.log(
    `${name}: GET ${settings.path}, ${settings.connections} connections, ` +
      `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per run, ` +
      `${settings.rounds} round(s)` +
      (settings.pairedRounds > 0 ? ` + ${settings.pairedRounds} paired` : '') +
      `; node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}`,
  )
  console.log(
    pinning.server === null
      ? 'CPU pinning: off (needs Linux, taskset and 2 cores; BENCH_PIN=0 turns it off)'
      : `CPU pinning: servers on core ${pinning.server}, autocannon on core ${pinning.client ?? 'any'}`,
  )
  console.log(
    `Load average: ${load.map((l) => fmt(l, 2)).join(', ')}` +
      (load[0]! > 0.5 ? ' — other processes compete for the cores, so expect noisy numbers' : ''),
  )
  return load
}

export async function writeReport(file: string, report: unknown): Promise<void> {
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true })
  await writeFile(join(ROOT, 'bench', 'results', file), `${JSON.stringify(report, null, 2)}\n`)
  console.log(`\nWrote bench/results/${file}`)
}

/** Runs `main`, exits non-zero when it throws, and always stops the servers. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  stopServersOnExit()
  try {
    await main()
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error)
    process.exitCode = 1
  } finally {
    stopAllServers()
  }
}

// ---------------------------------------------------------------------------------------------
// The frameworks
// ---------------------------------------------------------------------------------------------

/** login-manager must keep at least this share of the bare framework's throughput. */
const BUDGET = 0.85

/** The frameworks with a budget (Koa is reported only). */
const BUDGETED = new Set(['hono', 'fastify', 'fetch'])

function groups(secret: string): Group[] {
  const lm = testLoginPrepare(secret)
  const server = (name: string) => `bench/servers/${name}.ts`
  return [
    {
      key: 'hono',
      title: 'Hono',
      contenders: [
        ...bareContenders('bare Hono', server('hono-bare')),
        {
          key: 'login-manager',
          label: 'login-manager',
          role: 'login-manager',
          file: server('hono-login-manager'),
          prepare: lm,
        },
        {
          key: 'login-manager-middleware',
          label: 'login-manager, app.use(middleware)',
          role: 'variant',
          file: server('hono-login-manager-middleware'),
          prepare: lm,
        },
        {
          key: 'signed-cookie',
          label: 'hono/cookie signed cookie',
          role: 'peer',
          file: server('hono-signed-cookie'),
          prepare: loginOverHttp('hono/cookie signed cookie'),
        },
        {
          key: 'hono-session',
          label: '@hono/session',
          role: 'peer',
          file: server('hono-session'),
          prepare: loginOverHttp('@hono/session'),
        },
      ],
    },
    {
      key: 'fastify',
      title: 'Fastify',
      contenders: [
        ...bareContenders('bare Fastify', server('fastify-bare')),
        {
          key: 'login-manager',
          label: 'login-manager',
          role: 'login-manager',
          file: server('fastify-login-manager'),
          prepare: lm,
        },
        {
          key: 'secure-session',
          label: '@fastify/secure-session',
          role: 'peer',
          file: server('fastify-secure-session'),
          prepare: loginOverHttp('@fastify/secure-session'),
        },
      ],
    },
    {
      key: 'koa',
      title: 'Koa',
      contenders: [
        ...bareContenders('bare Koa', server('koa-bare')),
        {
          key: 'login-manager',
          label: 'login-manager',
          role: 'login-manager',
          file: server('koa-login-manager'),
          prepare: lm,
        },
        {
          key: 'koa-session',
          label: 'koa-session',
          role: 'peer',
          file: server('koa-session'),
          prepare: loginOverHttp('koa-session'),
        },
      ],
    },
    {
      key: 'fetch',
      title: 'Fetch (@hono/node-server)',
      contenders: [
        ...bareContenders('bare Fetch handler', server('fetch-bare')),
        {
          key: 'login-manager',
          label: 'login-manager',
          role: 'login-manager',
          file: server('fetch-login-manager'),
          prepare: lm,
        },
      ],
    },
  ]
}

async function main(): Promise<void> {
  const settings = settingsFromEnv()
  const only = process.env.BENCH_FRAMEWORKS?.split(',').map((s) => s.trim())
  const pinning = choosePinning()
  const secret = randomBytes(32).toString('base64url')
  const all = groups(secret)
  const unknown = only?.filter((k) => !all.some((g) => g.key === k)) ?? []
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_FRAMEWORKS: unknown ${unknown.join(', ')} (known: ${all.map((g) => g.key).join(', ')})`,
    )
  }
  const selected = only === undefined ? all : all.filter((g) => only.includes(g.key))
  const loadBefore = printPreamble('login-manager frameworks bench', settings, pinning)

  const results: GroupResult[] = []
  for (const group of selected) {
    console.log(`\n${group.title}`)
    results.push(await runGroup(group, settings, pinning, secret))
  }

  const verdicts = results.map((g) => {
    const lm = g.results.find((r) => r.role === 'login-manager')!
    const bare = g.results.find((r) => r.role === 'bare')!
    const same = g.results.find((r) => r.role === 'same-request') ?? null
    const peers = g.results.filter((r) => r.role === 'peer')
    const variants = g.results.filter((r) => r.role === 'variant')
    const budgeted = BUDGETED.has(g.key)
    const ratio = lm.percentOfBare / 100
    const ratioToSame = lm.percentOfSameRequest === null ? null : lm.percentOfSameRequest / 100
    const samePaired = same?.ratioToBarePaired ?? null
    return {
      framework: g.key,
      /** Against bare loaded without a cookie (the budget's definition). */
      loginManagerToBare: ratio,
      /** Against bare given login-manager's very request headers (its cookie, its user agent). */
      loginManagerToSameRequest: ratioToSame,
      /** What the Cookie header alone leaves of bare's throughput. */
      sameRequestToBare: same === null ? null : same.percentOfBare / 100,
      loginManagerToBareByServerCpu: lm.ratioToBareByServerCpu,
      loginManagerToSameRequestByServerCpu: lm.ratioToSameRequestByServerCpu,
      loginManagerToBarePaired: lm.ratioToBarePaired,
      /** Both paired with bare: the ratio of the two medians. */
      loginManagerToSameRequestPaired:
        lm.ratioToBarePaired === null || samePaired === null
          ? null
          : lm.ratioToBarePaired / samePaired,
      /** Layout variants (reported, not part of the budget). */
      variants: Object.fromEntries(
        variants.map((v) => [
          v.key,
          {
            toBare: v.percentOfBare / 100,
            toSameRequest: v.percentOfSameRequest === null ? null : v.percentOfSameRequest / 100,
            toLoginManager: v.requestsPerSecond / lm.requestsPerSecond,
            toBarePaired: v.ratioToBarePaired,
          },
        ]),
      ),
      loginManagerToPeers: Object.fromEntries(
        peers.map((p) => [p.key, lm.requestsPerSecond / p.requestsPerSecond]),
      ),
      peersToBare: Object.fromEntries(peers.map((p) => [p.key, p.percentOfBare / 100])),
      budget: budgeted
        ? {
            minimumRatioToBare: BUDGET,
            allowedAddedMicroseconds: bare.microsecondsPerRequest * (1 / BUDGET - 1),
            /** Against bare without a cookie. */
            met: ratio >= BUDGET,
            /** Against bare given the same request (null without that row). */
            metAgainstSameRequest: ratioToSame === null ? null : ratioToSame >= BUDGET,
          }
        : null,
    }
  })

  console.log(`\n${'='.repeat(100)}`)
  for (const g of results) {
    printGroup(g)
    const v = verdicts.find((x) => x.framework === g.key)!
    const bareLabel = g.results.find((r) => r.role === 'bare')!.label
    const pct = (ratio: number | null) => (ratio === null ? '—' : `${fmt(100 * ratio, 1)}%`)
    if (v.sameRequestToBare !== null) {
      console.log(`${bareLabel}, same request / ${bareLabel}: ${fmt(v.sameRequestToBare, 3)}`)
    }
    for (const [key, r] of Object.entries(v.variants)) {
      const label = g.results.find((x) => x.key === key)!.label
      console.log(
        `${label} / login-manager: ${fmt(r.toLoginManager, 3)} (a layout variant: ` +
          `${pct(r.toBare)} of ${bareLabel}, ${pct(r.toSameRequest)} given the same request; ` +
          'not part of the verdict)',
      )
    }
    for (const [peer, r] of Object.entries(v.loginManagerToPeers)) {
      const label = g.results.find((x) => x.key === peer)!.label
      console.log(`login-manager / ${label}: ${fmt(r, 2)}×`)
    }
    const againstBare = `against ${bareLabel} (no cookie): ${pct(v.loginManagerToBare)}`
    const againstSame =
      v.loginManagerToSameRequest === null
        ? ''
        : `; against ${bareLabel} given the same request: ${pct(v.loginManagerToSameRequest)}`
    const cpu =
      v.loginManagerToBareByServerCpu === null
        ? ''
        : `By server CPU time: ${pct(v.loginManagerToBareByServerCpu)} of ${bareLabel}` +
          (v.loginManagerToSameRequestByServerCpu === null
            ? ''
            : `, ${pct(v.loginManagerToSameRequestByServerCpu)} given the same request`) +
          '.'
    const paired =
      v.loginManagerToBarePaired === null
        ? ''
        : ` Paired: ${pct(v.loginManagerToBarePaired)} of ${bareLabel}` +
          (v.loginManagerToSameRequestPaired === null
            ? ''
            : `, ${pct(v.loginManagerToSameRequestPaired)} given the same request`) +
          '.'
    if (v.budget === null) {
      console.log(`Report only (no budget): login-manager ${againstBare}${againstSame}.`)
    } else {
      const sameVerdict =
        v.budget.metAgainstSameRequest === null
          ? ''
          : ` (${v.budget.metAgainstSameRequest ? 'MET' : 'MISSED'})`
      console.log(
        `Budget ${v.budget.met ? 'MET' : 'MISSED'} ${againstBare} (budget ≥ ${100 * BUDGET}%, ` +
          `≤ ${fmt(v.budget.allowedAddedMicroseconds, 1)} µs added per request here)` +
          `${againstSame}${sameVerdict}.`,
      )
    }
    if (cpu !== '' || paired !== '') console.log(`${cpu}${paired}`.trim())
  }

  await writeReport('frameworks.json', {
    ...environment(loadBefore, settings, pinning),
    budget: { minimumRatioToBare: BUDGET, frameworks: [...BUDGETED] },
    frameworks: Object.fromEntries(
      results.map((g) => [
        g.key,
        {
          title: g.title,
          results: Object.fromEntries(g.results.map(({ key, ...rest }) => [key, rest])),
          verdict: verdicts.find((v) => v.framework === g.key)!,
        },
      ]),
    ),
  })
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  await runMain(main)
}
