/**
 * `npm run bench:revocation`: what the revocation list of cookie sessions costs a protected
 * request, against the library before it (commit BENCH_BASE, default 1479537, built into a
 * temporary directory), in two ways:
 *
 * 1. in-process (no HTTP): the whole guard path (createAuth, the user, commit) of both builds in
 *    one process, in alternating batches, the current one with an empty list and with a list of
 *    BENCH_REVOKED ids (default 1,000,000);
 * 2. paired HTTP: the basic example's server on each build (bench/servers/login-manager-at.ts),
 *    both loaded at once on one core, BENCH_PAIRED rounds (default 5) of BENCH_DURATION seconds
 *    (default 10): the throughput ratio and the difference in server CPU time per request.
 *
 * Results go to stdout and bench/results/revocation.json. See bench/README.md.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { testLoginPrepare, USER_AGENT, verify } from './lib/contenders.ts'
import { User } from './lib/login-manager-app.ts'
import { measure, type RunResult } from './lib/measure.ts'
import {
  choosePinning,
  ROOT,
  type ServerProcess,
  startServer,
  stopAllServers,
  stopServerAndWait,
  stopServersOnExit,
} from './lib/processes.ts'

type Lib = typeof import('login-manager')
type Testing = typeof import('login-manager/testing')
type AdapterRequest = import('login-manager/adapter').AdapterRequest

const BASE = process.env.BENCH_BASE ?? '1479537'
const REVOKED = Number(process.env.BENCH_REVOKED ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_PAIRED ?? 5)
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const SERVER = 'bench/servers/login-manager-at.ts'

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const fmt = (value: number, digits = 2) => value.toFixed(digits)

/** The library at `rev`, built once into a temporary directory; returns its dist/. */
function buildBase(rev: string): string {
  const dir = join(os.tmpdir(), `login-manager-bench-${rev}`)
  const dist = join(dir, 'dist')
  if (existsSync(join(dist, 'index.js'))) return dist
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const archive = execFileSync('git', [
    '-C',
    ROOT,
    'archive',
    rev,
    'src',
    'tsconfig.json',
    'tsconfig.build.json',
    'package.json',
  ])
  execFileSync('tar', ['-x', '-C', dir], { input: archive })
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')],
    { cwd: dir, stdio: 'inherit' },
  )
  return dist
}

async function loadBuild(dist: string): Promise<{ lib: Lib; testing: Testing }> {
  const lib = (await import(pathToFileURL(join(dist, 'index.js')).href)) as Lib
  const testing = (await import(pathToFileURL(join(dist, 'testing/index.js')).href)) as Testing
  return { lib, testing }
}

function adapter(cookie: string): AdapterRequest {
  return {
    method: 'GET',
    url: '/protected',
    header: (name) => (name === 'cookie' ? cookie : name === 'user-agent' ? USER_AGENT : undefined),
    clientAddress: '127.0.0.1',
    origin: 'http://127.0.0.1',
    raw: null,
  }
}

interface Case {
  readonly name: string
  readonly run: () => unknown
}

/** A manager of `build` and the steady-state cookie of a logged-in client for it. */
async function guardCase(
  name: string,
  build: { lib: Lib; testing: Testing },
  secret: string,
  revoked: number,
): Promise<Case> {
  const manager = new build.lib.LoginManager<User>({
    secret,
    userLoader: (id) => (id === 'leafstorm' ? new User(id) : null),
    loginView: '/login',
  })
  if (revoked > 0) {
    const list = (manager as { _revocations?: { revoke(id: string, until: number): void } })
      ._revocations
    if (list === undefined) throw new Error(`${name}: no revocation list in this build`)
    const until = Math.floor(Date.now() / 1000) + 12 * 3600
    for (let i = 0; i < revoked; i++)
      list.revoke(randomBytes(16).toString('base64url'), until - (i % 43_200))
  }
  const minted = await build.testing.testLogin(manager, new User('leafstorm'))
  const first = manager.createAuth(adapter(minted))
  if ((await first.checkLogin()) !== null)
    throw new Error(`${name}: the testLogin cookie was refused`)
  const setCookie = first.commitResponse(200)?.cookies[0]
  if (setCookie === undefined)
    throw new Error(`${name}: the first request should re-seal the session`)
  const cookie = setCookie.slice(0, setCookie.indexOf(';'))
  const check = manager.createAuth(adapter(cookie))
  if (check.user === null || check.commitResponse(200)?.cookies.length !== 0) {
    throw new Error(`${name}: the bound cookie should log in without a Set-Cookie`)
  }
  return {
    name,
    run: () => {
      const auth = manager.createAuth(adapter(cookie))
      const user = auth.user
      return auth.commitResponse(200) ?? user
    },
  }
}

let sink: unknown

/** Nanoseconds per call of each case: batches interleaved case by case, best and median. */
function timeInterleaved(
  cases: readonly Case[],
  batches = 40,
): { name: string; bestNs: number; medianNs: number }[] {
  const once = (c: Case, n: number) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) sink = c.run()
    return Number(process.hrtime.bigint() - start)
  }
  let n = 1000
  while (once(cases[0]!, n) < 20e6 && n < 1e7) n *= 2
  for (const c of cases) once(c, n) // warm every case up
  const perOp = cases.map(() => [] as number[])
  for (let b = 0; b < batches; b++) {
    cases.forEach((c, i) => {
      perOp[i]!.push(once(c, n) / n)
    })
  }
  return cases.map((c, i) => {
    const sorted = perOp[i]!.sort((x, y) => x - y)
    return { name: c.name, bestNs: sorted[0]!, medianNs: sorted[sorted.length >> 1]! }
  })
}

interface PairedRound {
  readonly base: RunResult
  readonly current: RunResult
}

/** One side of a paired comparison: a build, and how many ids its list starts with. */
interface Side {
  readonly dist: string
  readonly revoked: number
}

async function paired(
  label: string,
  reference: Side,
  measured: Side,
  secret: string,
  pin: number | null,
) {
  const env = (side: Side) => ({
    BENCH_SECRET: secret,
    BENCH_LIB: side.dist,
    BENCH_REVOKED: String(side.revoked),
  })
  const prepare = testLoginPrepare(secret)
  const rounds: PairedRound[] = []
  // Both servers are started afresh for every round, in alternating order: on this kind of
  // machine the process started second tends to run slower (bench/README.md, "One server at a
  // time"), which would otherwise always count against the same side.
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? [reference, measured] : [measured, reference]
    const started = []
    for (const side of order) started.push(await startServer(SERVER, env(side), pin))
    const [baseServer, current] = (round % 2 === 1 ? started : [...started].reverse()) as [
      ServerProcess,
      ServerProcess,
    ]
    try {
      let b: RunResult | undefined
      let c: RunResult | undefined
      for (const warmUp of [true, false]) {
        const [baseHeaders, currentHeaders] = [
          await prepare(baseServer.url),
          await prepare(current.url),
        ]
        await verify({ label: 'reference' }, baseServer.url, baseHeaders)
        await verify({ label }, current.url, currentHeaders)
        const load = {
          connections: CONNECTIONS,
          pipelining: 1,
          durationSeconds: warmUp ? 3 : DURATION,
        }
        ;[b, c] = await Promise.all([
          measure(baseServer.url, baseHeaders, load, baseServer.child.pid),
          measure(current.url, currentHeaders, load, current.child.pid),
        ])
        for (const run of [b, c]) {
          if (run.non2xx > 0 || run.errors > 0) {
            throw new Error(`${label}: non-2xx or errors in a paired run`)
          }
        }
      }
      if (b === undefined || c === undefined) throw new Error('no paired run')
      rounds.push({ base: b, current: c })
      const cpu = (r: RunResult) => r.serverCpuMicrosecondsPerRequest ?? Number.NaN
      console.log(
        `  ${label}, round ${round}/${ROUNDS} (${round % 2 === 1 ? 'reference' : 'measured'} started first): ` +
          `${fmt((100 * c.requestsPerSecond) / b.requestsPerSecond, 1)}% of the reference's req/s; ` +
          `server CPU ${fmt(cpu(c), 1)} vs ${fmt(cpu(b), 1)} µs/req (${fmt(cpu(c) - cpu(b))} µs)`,
      )
    } finally {
      await Promise.all([stopServerAndWait(baseServer.child), stopServerAndWait(current.child)])
    }
  }
  const ratios = rounds.map((r) => r.current.requestsPerSecond / r.base.requestsPerSecond)
  const cpuDeltas = rounds.map(
    (r) =>
      (r.current.serverCpuMicrosecondsPerRequest ?? Number.NaN) -
      (r.base.serverCpuMicrosecondsPerRequest ?? Number.NaN),
  )
  const baseCpu = median(rounds.map((r) => r.base.serverCpuMicrosecondsPerRequest ?? Number.NaN))
  return {
    label,
    reference,
    measured,
    ratioMedian: median(ratios),
    ratios,
    cpuDeltaMicrosecondsMedian: median(cpuDeltas),
    cpuDeltasMicroseconds: cpuDeltas,
    baseCpuMicrosecondsPerRequest: baseCpu,
    /** The throughput ratio as time per request, at the reference's CPU time per request. */
    deltaFromRatioMicroseconds: baseCpu * (1 / median(ratios) - 1),
    rounds,
  }
}

async function main(): Promise<void> {
  stopServersOnExit()
  const secret = randomBytes(32).toString('base64url')
  console.log(
    `revocation bench: base ${BASE} vs this tree; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}`,
  )
  const loadBefore = os.loadavg()
  if (loadBefore[0]! > 0.5)
    console.log(`Warning: load average ${fmt(loadBefore[0]!)}: expect noise`)
  const baseDist = buildBase(BASE)
  const base = await loadBuild(baseDist)
  const current = await loadBuild(join(ROOT, 'dist'))

  console.log(
    '\nIn-process, the whole guard path (createAuth + auth.user + commit), interleaved batches:',
  )
  const micro = timeInterleaved([
    await guardCase(`base (${BASE})`, base, secret, 0),
    await guardCase('this tree, empty list', current, secret, 0),
    await guardCase(
      `this tree, ${REVOKED.toLocaleString('en-US')} ids listed`,
      current,
      secret,
      REVOKED,
    ),
  ])
  const baseNs = micro[0]!.medianNs
  for (const r of micro) {
    console.log(
      `  ${r.name.padEnd(40)} best ${fmt(r.bestNs / 1000, 3)} µs   median ${fmt(r.medianNs / 1000, 3)} µs   ` +
        `(${r.medianNs >= baseNs ? '+' : ''}${fmt((r.medianNs - baseNs) / 1000, 3)} µs)`,
    )
  }
  if (sink === Symbol.for('never')) console.log(sink)

  const pinning = choosePinning()
  console.log(
    `\nPaired HTTP (both servers loaded at once, sharing core ${pinning.server ?? 'any'}; ${CONNECTIONS} connections each):`,
  )
  const before: Side = { dist: baseDist, revoked: 0 }
  const empty: Side = { dist: join(ROOT, 'dist'), revoked: 0 }
  const full: Side = { dist: join(ROOT, 'dist'), revoked: REVOKED }
  const ids = REVOKED.toLocaleString('en-US')
  const http = []
  http.push(
    await paired(`this tree (empty list) against ${BASE}`, before, empty, secret, pinning.server),
  )
  if (REVOKED > 0) {
    http.push(
      await paired(`this tree (${ids} ids) against ${BASE}`, before, full, secret, pinning.server),
    )
    http.push(await paired(`${ids} ids against an empty list`, empty, full, secret, pinning.server))
  }
  for (const h of http) {
    console.log(
      `  ${h.label}: ${fmt(100 * h.ratioMedian, 1)}% of the reference's req/s (median of ${h.ratios.length}; rounds ` +
        `${h.ratios.map((r) => `${fmt(100 * r, 1)}%`).join(', ')}), i.e. ${fmt(h.deltaFromRatioMicroseconds)} µs a request ` +
        `at the reference's ${fmt(h.baseCpuMicrosecondsPerRequest, 1)} µs; server CPU ${fmt(h.cpuDeltaMicrosecondsMedian)} µs/req more (median; rounds ` +
        `${h.cpuDeltasMicroseconds.map((d) => fmt(d)).join(', ')})`,
    )
  }
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? null,
    cpuCount: os.cpus().length,
    loadAverageBefore: loadBefore,
    loadAverageAfter: os.loadavg(),
    base: BASE,
    settings: {
      revoked: REVOKED,
      rounds: ROUNDS,
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      pinning,
    },
    inProcess: micro,
    pairedHttp: http.map(({ rounds, ...rest }) => ({
      ...rest,
      rounds: rounds.map((r) => ({
        baseRequestsPerSecond: r.base.requestsPerSecond,
        requestsPerSecond: r.current.requestsPerSecond,
        baseCpuMicrosecondsPerRequest: r.base.serverCpuMicrosecondsPerRequest,
        cpuMicrosecondsPerRequest: r.current.serverCpuMicrosecondsPerRequest,
      })),
    })),
  }
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true })
  await writeFile(
    join(ROOT, 'bench', 'results', 'revocation.json'),
    `${JSON.stringify(report, null, 2)}\n`,
  )
  console.log('\nWrote bench/results/revocation.json')
}

try {
  await main()
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exitCode = 1
} finally {
  stopAllServers()
}
