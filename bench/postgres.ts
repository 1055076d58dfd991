/**
 * `npm run bench:postgres`: sessions in PostgreSQL, login-manager (`PostgresStore` on a pg pool)
 * against passport + express-session + connect-pg-simple, in one run on the same PostgreSQL:
 *
 * - the protected route (`GET /protected`, logged in): one after the other with bare Express as
 *   the reference (without a cookie, and given login-manager's very request headers), then head
 *   to head (both servers loaded at once on one core and one PostgreSQL, whose throughput ratio
 *   is their cost ratio whatever else loads the machine): the budget is login-manager ≥ 1.5×
 *   connect-pg-simple, head to head;
 * - the login (`POST /login`, no cookie: a new session each time);
 * - the SQL statements each sends per protected request and per login, counted by the servers
 *   (`GET /__statements`): the budget is at most one per protected request.
 *
 * Same method as bench/redis.ts (bench/frameworks.ts's harness). Both servers use DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/test), each in a schema of its own made for this
 * run and dropped at the end. Results go to stdout and bench/results/postgres.json.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import autocannon from 'autocannon'
import { PostgresStore } from 'login-manager/postgres'
import pg from 'pg'
import {
  environment,
  fmt,
  type Group,
  loginOverHttp,
  median,
  printGroup,
  printPreamble,
  runGroup,
  runMain,
  settingsFromEnv,
  writeReport,
} from './frameworks.ts'
import { bareContenders, USER_AGENT, verify } from './lib/contenders.ts'
import { measure } from './lib/measure.ts'
import { choosePinning, startServer, stopServerAndWait } from './lib/processes.ts'

/** login-manager must answer at least this many times as many requests as connect-pg-simple. */
const BUDGET = 1.5
/** At most this many SQL statements (round trips) per protected request. */
const STATEMENT_BUDGET = 1
/** Requests per statement count. */
const COUNTED = 200
/** Head-to-head rounds at least (BENCH_PAIRED asks for more). */
const HEAD_TO_HEAD = 3

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function connect(): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  pool.on('error', () => {})
  try {
    const { rows } = await pool.query('SHOW server_version')
    console.log(
      `PostgreSQL ${rows[0].server_version} at ${DATABASE_URL.replace(/\/\/[^@/]*@/, '//***@')}`,
    )
    return pool
  } catch (error) {
    await pool.end()
    throw new Error(
      `PostgreSQL is unreachable at ${DATABASE_URL} (${error instanceof Error ? error.message : String(error)}).\n` +
        'Start one or set DATABASE_URL, then run `npm run bench:postgres` again.',
    )
  }
}

interface LoginResult {
  readonly requestsPerSecond: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
}

/** `POST /login` without a cookie for `seconds`: every request is a new login. */
async function measureLogin(
  url: string,
  connections: number,
  seconds: number,
): Promise<LoginResult> {
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: `${url}/login`,
        method: 'POST',
        connections,
        duration: seconds,
        headers: { 'user-agent': USER_AGENT },
      },
      (error: unknown, r) => (error ? reject(error) : resolve(r)),
    )
  })
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${url}/login: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    )
  }
  return {
    requestsPerSecond: result.duration > 0 ? result.requests.total / result.duration : 0,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  }
}

async function statementsOf(url: string): Promise<number> {
  return Number(await (await fetch(`${url}/__statements`)).text())
}

/** SQL statements per protected request and per login, counted by the server. */
async function countStatements(
  url: string,
  prepare: (url: string) => Promise<Record<string, string>>,
): Promise<{ protected: number; login: number }> {
  const headers = { 'user-agent': USER_AGENT, ...(await prepare(url)) }
  const before = await statementsOf(url)
  for (let i = 0; i < COUNTED; i++) {
    const res = await fetch(`${url}/protected`, { headers })
    if (res.status !== 200) throw new Error(`${url}/protected answered ${res.status}`)
    await res.arrayBuffer()
  }
  const middle = await statementsOf(url)
  for (let i = 0; i < COUNTED; i++) {
    const res = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'user-agent': USER_AGENT },
    })
    if (res.status !== 200) throw new Error(`${url}/login answered ${res.status}`)
    await res.arrayBuffer()
  }
  const after = await statementsOf(url)
  return { protected: (middle - before) / COUNTED, login: (after - middle) / COUNTED }
}

type Server = Awaited<ReturnType<typeof startServer>>

/**
 * login-manager and connect-pg-simple loaded at the same time, their servers sharing one core
 * and one PostgreSQL: whatever else slows the machine slows both, so the ratio of their
 * throughputs is the ratio of their costs. One warm-up round, then `rounds` measured ones.
 */
async function headToHead(
  servers: { lm: Server; pp: Server },
  prepare: {
    lm: (url: string) => Promise<Record<string, string>>
    pp: (url: string) => Promise<Record<string, string>>
  },
  settings: ReturnType<typeof settingsFromEnv>,
  rounds: number,
): Promise<{ ratios: number[]; lm: number[]; pp: number[] }> {
  const out = { ratios: [] as number[], lm: [] as number[], pp: [] as number[] }
  for (let round = 0; round <= rounds; round++) {
    const lmHeaders = await prepare.lm(servers.lm.url)
    const ppHeaders = await prepare.pp(servers.pp.url)
    await verify({ label: 'login-manager' }, servers.lm.url, lmHeaders)
    await verify({ label: 'connect-pg-simple' }, servers.pp.url, ppHeaders)
    const load = {
      ...settings,
      durationSeconds: round === 0 ? Math.max(1, settings.warmupSeconds) : settings.durationSeconds,
    }
    const [lm, pp] = await Promise.all([
      measure(servers.lm.url, lmHeaders, load),
      measure(servers.pp.url, ppHeaders, load),
    ])
    for (const [name, r] of [
      ['login-manager', lm],
      ['connect-pg-simple', pp],
    ] as const) {
      if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
        throw new Error(
          `${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts head to head`,
        )
      }
    }
    if (round === 0) continue
    out.lm.push(lm.requestsPerSecond)
    out.pp.push(pp.requestsPerSecond)
    out.ratios.push(lm.requestsPerSecond / pp.requestsPerSecond)
    console.log(
      `  head to head ${round}/${rounds}: login-manager ${fmt(lm.requestsPerSecond)} req/s, connect-pg-simple ${fmt(pp.requestsPerSecond)} req/s: ${fmt(lm.requestsPerSecond / pp.requestsPerSecond, 2)}×`,
    )
  }
  return out
}

async function main(): Promise<void> {
  const settings = settingsFromEnv()
  let admin: pg.Pool
  try {
    admin = await connect()
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 2
    return
  }
  const run = randomBytes(4).toString('hex')
  const lmSchema = `bench_${run}_lm`
  const ppSchema = `bench_${run}_pp`
  try {
    const setup = new PostgresStore({ pool: admin, schema: lmSchema, cleanupInterval: 0 })
    await setup.createSchema()
    await setup.close()
    // connect-pg-simple's own table.sql, as its README says, in the peer's schema.
    const tableSql = await readFile(
      createRequire(import.meta.url).resolve('connect-pg-simple/table.sql'),
      'utf8',
    )
    await admin.query(`CREATE SCHEMA "${ppSchema}"; SET search_path TO "${ppSchema}"; ${tableSql}`)

    const pinning = choosePinning()
    const secret = randomBytes(32).toString('base64url')
    const loadBefore = printPreamble('login-manager PostgreSQL bench', settings, pinning)
    console.log(
      `Schemas ${lmSchema} (login-manager) and ${ppSchema} (connect-pg-simple), not pinned`,
    )

    const lm = {
      key: 'login-manager',
      label: 'login-manager + PostgresStore (pg)',
      role: 'login-manager',
      file: 'bench/servers/postgres-login-manager.ts',
      env: { DATABASE_URL, BENCH_PG_SCHEMA: lmSchema },
      prepare: loginOverHttp('login-manager + PostgresStore'),
    } as const
    const pp = {
      key: 'passport',
      label: 'passport + express-session + connect-pg-simple',
      role: 'peer',
      file: 'bench/servers/postgres-passport.ts',
      env: { DATABASE_URL, BENCH_PG_SCHEMA: ppSchema },
      prepare: loginOverHttp('passport + connect-pg-simple'),
    } as const
    const group: Group = {
      key: 'postgres',
      title: 'Express 5, sessions in PostgreSQL',
      contenders: [...bareContenders('bare Express', 'bench/servers/bare.ts'), lm, pp],
    }

    console.log(`\n${group.title}: GET /protected`)
    const result = await runGroup(group, settings, pinning, secret)
    const rps = (key: string) => result.results.find((r) => r.key === key)!.requestsPerSecond
    const ratio = rps('login-manager') / rps('passport')
    const lmRow = result.results.find((r) => r.key === 'login-manager')!
    const ppRow = result.results.find((r) => r.key === 'passport')!
    // Cross-checks that move less on a busy machine: server CPU per request (PostgreSQL's own
    // time not included), and the paired rounds (each loaded beside bare Express).
    const ratioByServerCpu =
      lmRow.serverCpuMicrosecondsPerRequest === null ||
      ppRow.serverCpuMicrosecondsPerRequest === null
        ? null
        : ppRow.serverCpuMicrosecondsPerRequest / lmRow.serverCpuMicrosecondsPerRequest
    const ratioPaired =
      lmRow.ratioToBarePaired === null || ppRow.ratioToBarePaired === null
        ? null
        : lmRow.ratioToBarePaired / ppRow.ratioToBarePaired

    // Head to head on GET /protected: the verdict's figure (robust to a busy machine).
    console.log(
      `\nGET /protected head to head (both servers at once, sharing core ${pinning.server ?? 'any'})`,
    )
    const pair = {
      lm: await startServer(lm.file, { BENCH_SECRET: secret, ...lm.env }, pinning.server),
      pp: await startServer(pp.file, { BENCH_SECRET: secret, ...pp.env }, pinning.server),
    }
    let h2h: Awaited<ReturnType<typeof headToHead>>
    try {
      h2h = await headToHead(
        pair,
        { lm: lm.prepare, pp: pp.prepare },
        settings,
        Math.max(HEAD_TO_HEAD, settings.pairedRounds),
      )
    } finally {
      await Promise.all([stopServerAndWait(pair.lm.child), stopServerAndWait(pair.pp.child)])
    }
    const headToHeadRatio = median(h2h.ratios)

    // Logins and statement counts: each server alone, started fresh, as in runGroup.
    console.log('\nPOST /login (a new session per request), and SQL statements counted')
    const logins = new Map<string, LoginResult[]>([
      [lm.key, []],
      [pp.key, []],
    ])
    const counts = new Map<string, { protected: number; login: number }>()
    for (let round = 1; round <= settings.rounds; round++) {
      for (const c of round % 2 === 1 ? [lm, pp] : [pp, lm]) {
        const server = await startServer(c.file, { BENCH_SECRET: secret, ...c.env }, pinning.server)
        try {
          if (!counts.has(c.key)) counts.set(c.key, await countStatements(server.url, c.prepare))
          if (settings.warmupSeconds > 0) {
            await measureLogin(server.url, settings.connections, settings.warmupSeconds)
          }
          const measured = await measureLogin(
            server.url,
            settings.connections,
            settings.durationSeconds,
          )
          logins.get(c.key)!.push(measured)
          console.log(
            `  round ${round}/${settings.rounds}  ${c.label.padEnd(48)} ${fmt(measured.requestsPerSecond).padStart(7)} logins/s   p50 ${measured.latencyP50Ms} ms   p99 ${measured.latencyP99Ms} ms`,
          )
        } finally {
          await stopServerAndWait(server.child)
        }
      }
    }
    const loginRps = (key: string) => median(logins.get(key)!.map((r) => r.requestsPerSecond))
    const loginRatio = loginRps(lm.key) / loginRps(pp.key)
    const lmCount = counts.get(lm.key)!
    const ppCount = counts.get(pp.key)!
    const budget = {
      minimumRatioToPassport: BUDGET,
      /** Head to head (both loaded at once): the verdict's ratio. */
      ratio: headToHeadRatio,
      sequentialRatio: ratio,
      met: headToHeadRatio >= BUDGET,
      maximumStatementsPerProtectedRequest: STATEMENT_BUDGET,
      statementsPerProtectedRequest: lmCount.protected,
      statementsMet: lmCount.protected <= STATEMENT_BUDGET,
    }

    printGroup(result)
    console.log('')
    console.log(
      `POST /login: login-manager ${fmt(loginRps(lm.key))} logins/s, connect-pg-simple ${fmt(loginRps(pp.key))} logins/s (${fmt(loginRatio, 2)}×, reported only)`,
    )
    console.log(
      `SQL statements per protected request: login-manager ${fmt(lmCount.protected, 2)}, connect-pg-simple ${fmt(ppCount.protected, 2)}; ` +
        `per login: ${fmt(lmCount.login, 2)} and ${fmt(ppCount.login, 2)}`,
    )
    console.log(
      `login-manager / passport + connect-pg-simple on GET /protected, head to head: ${fmt(headToHeadRatio, 2)}× ` +
        `(rounds ${h2h.ratios.map((r) => `${fmt(r, 2)}×`).join(', ')}); one after the other: ${fmt(ratio, 2)}×`,
    )
    if (ratioByServerCpu !== null) {
      console.log(`Cross-check from server CPU time per request: ${fmt(ratioByServerCpu, 2)}×`)
    }
    if (ratioPaired !== null) {
      console.log(
        `Cross-check from the paired rounds (each beside bare Express): ${fmt(ratioPaired, 2)}×`,
      )
    }
    const verdict =
      `login-manager answers ${fmt(headToHeadRatio, 2)}× as many protected requests as passport + express-session + ` +
      `connect-pg-simple (budget ≥ ${BUDGET}×), with ${fmt(lmCount.protected, 2)} SQL statement(s) each (budget ≤ ${STATEMENT_BUDGET})`
    console.log(
      budget.met && budget.statementsMet ? `Budget MET: ${verdict}.` : `Budget MISSED: ${verdict}.`,
    )

    await writeReport('postgres.json', {
      ...environment(loadBefore, settings, pinning),
      postgres: { url: DATABASE_URL.replace(/\/\/[^@/]*@/, '//***@') },
      results: Object.fromEntries(result.results.map(({ key, ...rest }) => [key, rest])),
      logins: Object.fromEntries(
        [...logins].map(([key, rounds]) => [key, { rounds, median: loginRps(key) }]),
      ),
      statements: Object.fromEntries(counts),
      headToHead: h2h,
      ratios: {
        loginManagerToPassport: headToHeadRatio,
        loginManagerToPassportSequential: ratio,
        loginManagerToPassportByServerCpu: ratioByServerCpu,
        loginManagerToPassportPaired: ratioPaired,
        loginManagerToPassportOnLogin: loginRatio,
        loginManagerToBare: rps('login-manager') / rps('bare'),
        loginManagerToSameRequest: rps('login-manager') / rps('bare-same-request'),
        passportToBare: rps('passport') / rps('bare'),
      },
      budget,
    })
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${lmSchema}" CASCADE`)
    await admin.query(`DROP SCHEMA IF EXISTS "${ppSchema}" CASCADE`)
    console.log(`Dropped schemas ${lmSchema} and ${ppSchema}`)
    await admin.end()
  }
}

await runMain(main)
