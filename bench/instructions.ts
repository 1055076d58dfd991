/**
 * `npm run bench:instructions`: instructions the server executes per request (valgrind's
 * callgrind), for bare, the floor and login-manager on every framework's `GET /protected`, and
 * with BENCH_INSTR_LOGIN=1 also for `POST /login` under login-manager and each framework's session
 * package. Timing noise does not move these counts, so a change's cost shows on a busy machine.
 *
 * Method (bench/README.md, "Instruction counts"): each server runs under
 * `valgrind --tool=callgrind --instr-atstart=no`; this process (not instrumented) sends it
 * `BENCH_INSTR_WARMUP` requests, turns instrumentation on (`callgrind_control -i on`), sends
 * `BENCH_INSTR_SETTLE` requests that are left out, then `BENCH_INSTR_SEGMENTS` runs of
 * `BENCH_INSTR_SEGMENT` requests with a dump after each, one request at a time on one keep-alive
 * connection. The median run divided by its requests is the cost of one request. Results go to
 * stdout and bench/results/instructions-<date>.json.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { FORM_TYPE, PATH, testLoginPrepare, USER_AGENT } from './lib/contenders.ts'
import { LOGIN_FORM } from './lib/form.ts'
import { ROOT, startServer, stopServerAndWait, stopServersOnExit } from './lib/processes.ts'

interface Side {
  readonly framework: string
  readonly label: string
  readonly file: string
  readonly login: boolean
  /** Logged-in headers for GET /protected (none for the login route). */
  readonly prepare: (url: string) => Promise<Record<string, string>>
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

const WARMUP = intFromEnv('BENCH_INSTR_WARMUP', 3000, 0)
const SETTLE = intFromEnv('BENCH_INSTR_SETTLE', 2000, 0)
const SEGMENT = intFromEnv('BENCH_INSTR_SEGMENT', 500, 1)
const SEGMENTS = intFromEnv('BENCH_INSTR_SEGMENTS', 7, 1)
const ONLY = process.env.BENCH_ONLY?.split(',').filter((s) => s !== '') ?? []
const WITH_LOGIN = process.env.BENCH_INSTR_LOGIN === '1'
const KEEP = process.env.BENCH_INSTR_KEEP === '1'
const WITH_ABLATIONS = process.env.BENCH_INSTR_ABLATIONS === '1'

function sides(secret: string): Side[] {
  const lm = testLoginPrepare(secret)
  const none = async () => ({})
  const s = (framework: string, label: string, name: string, login = false): Side => ({
    framework,
    label,
    file: `bench/servers/${name}.ts`,
    login,
    prepare: label.startsWith('bare') || login ? none : lm,
  })
  const all: Side[] = [
    s('express', 'bare', 'bare'),
    s('express', 'floor', 'floor'),
    s('express', 'login-manager', 'login-manager'),
    s('hono', 'bare', 'hono-bare'),
    s('hono', 'floor', 'hono-floor'),
    s('hono', 'login-manager', 'hono-login-manager'),
    s('fastify', 'bare', 'fastify-bare'),
    s('fastify', 'floor', 'fastify-floor'),
    s('fastify', 'login-manager', 'fastify-login-manager'),
    s('koa', 'bare', 'koa-bare'),
    s('koa', 'floor', 'koa-floor'),
    s('koa', 'login-manager', 'koa-login-manager'),
    s('fetch', 'bare', 'fetch-bare'),
    s('fetch', 'floor', 'fetch-floor'),
    s('fetch', 'login-manager', 'fetch-login-manager'),
  ]
  if (WITH_ABLATIONS) {
    // What each layer of an integration costs the framework before any work in it (bench/README.md).
    all.push(
      s('express', 'bare + two no-op middleware layers', 'express-layers'),
      s('express', 'bare + two properties added to req', 'express-request-props'),
      s('express', 'bare + a per-response writeHead hook', 'express-response-hook'),
      s('express', 'login-manager, guard wrapping the handler', 'login-manager-routes'),
      s('fastify', 'bare + empty onRequest/onSend/preHandler', 'fastify-hooks'),
      s('fetch', 'floor, headers added to the Response', 'fetch-floor-wrapped'),
    )
  }
  if (WITH_LOGIN) {
    all.push(
      s('express', 'login-manager, POST /login', 'login-manager', true),
      s('express', 'cookie-session, POST /login', 'cookie-session', true),
      s('express', 'express-session, POST /login', 'express-session', true),
      s('hono', 'login-manager, POST /login', 'hono-login-manager', true),
      s('hono', 'signed cookie, POST /login', 'hono-signed-cookie', true),
      s('fastify', 'login-manager, POST /login', 'fastify-login-manager', true),
      s('fastify', '@fastify/secure-session, POST /login', 'fastify-secure-session', true),
      s('koa', 'login-manager, POST /login', 'koa-login-manager', true),
      s('koa', 'koa-session, POST /login', 'koa-session', true),
      s('fetch', 'login-manager, POST /login', 'fetch-login-manager', true),
      s('fetch', 'signed cookie, POST /login', 'fetch-signed-cookie', true),
    )
  }
  // BENCH_INSTR_FILES=<server.ts,…>: only these servers (logged in like login-manager's).
  const files = process.env.BENCH_INSTR_FILES?.split(',').filter((f) => f !== '') ?? []
  if (files.length > 0) return files.map((file) => ({ ...s('files', file, 'x'), file }))
  return all.filter((side) => ONLY.length === 0 || ONLY.includes(side.framework))
}

/** `cookieHeader` with the cookies of `setCookies` added or replaced by name. */
function mergeCookies(cookieHeader: string | undefined, setCookies: readonly string[]): string {
  const jar = new Map<string, string>()
  for (const pair of (cookieHeader ?? '').split(/;\s*/)) {
    const eq = pair.indexOf('=')
    if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  for (const line of setCookies) {
    const pair = line.split(';', 1)[0]!
    const eq = pair.indexOf('=')
    if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

/** Sends `count` requests one after another on one keep-alive connection; each must be 2xx. */
async function send(
  agent: Agent,
  url: string,
  side: Side,
  headers: Record<string, string>,
  count: number,
): Promise<void> {
  const { hostname, port } = new URL(url)
  const body = side.login ? LOGIN_FORM : undefined
  const all: Record<string, string> = {
    'user-agent': USER_AGENT,
    ...headers,
    ...(body === undefined
      ? {}
      : { 'content-type': FORM_TYPE, 'content-length': String(Buffer.byteLength(body)) }),
  }
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          agent,
          hostname,
          port,
          path: side.login ? '/login' : PATH,
          method: side.login ? 'POST' : 'GET',
          headers: all,
        },
        (res) => {
          // A browser keeps a re-issued cookie: without that, a session older than its touch
          // interval (a minute, soon reached under callgrind) would be re-sealed on every request.
          const issued = res.headers['set-cookie']
          if (!side.login && issued !== undefined) {
            headers.cookie = mergeCookies(headers.cookie, issued)
            all.cookie = headers.cookie
          }
          res.resume()
          res.once('end', () =>
            res.statusCode !== undefined && res.statusCode < 300
              ? resolve()
              : reject(new Error(`${side.label}: answered ${res.statusCode}`)),
          )
        },
      )
      req.once('error', reject)
      req.end(body)
    })
  }
}

/** Total instructions (Ir) in a callgrind output file. */
async function totalInstructions(file: string): Promise<number> {
  const text = await readFile(file, 'utf8')
  const line = /^(?:summary|totals):\s*(\d+)/m.exec(text)
  if (line === null) throw new Error(`${file}: no summary line`)
  return Number(line[1])
}

/** Sends `command` (`-i on`, `-d`, …) to the callgrind process `pid` and waits until it is done. */
function control(pid: number, ...command: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('callgrind_control', [...command, String(pid)], { stdio: 'ignore' })
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`callgrind_control ${command} exited ${code}`)),
    )
  })
}

/**
 * One server under callgrind, instrumented only after its warm-up and settle: then `SEGMENTS`
 * runs of `SEGMENT` requests, each followed by a dump (callgrind zeroes its counters at each
 * dump, so every file holds one run). The median run is the figure: a major collection or a
 * late recompilation lands in one run and moves only that one.
 */
async function run(side: Side, secret: string): Promise<number[]> {
  const out = join(os.tmpdir(), `lm-callgrind-${process.pid}-${side.file.replace(/\W+/g, '-')}.out`)
  // --single-threaded: the compiler and the garbage collector run on the main thread, in step
  // with the requests, rather than whenever valgrind schedules their threads.
  const server = await startServer(
    side.file,
    { BENCH_SECRET: secret },
    null,
    ['--single-threaded'],
    {
      command: [
        'valgrind',
        '--tool=callgrind',
        // V8 writes machine code into memory it then runs: valgrind must notice.
        '--smc-check=all-non-file',
        '--instr-atstart=no',
        `--callgrind-out-file=${out}`,
      ],
      readyTimeoutMs: 300_000,
    },
  )
  const pid = server.child.pid
  if (pid === undefined) throw new Error(`${side.file}: no pid`)
  // One connection for the warm-up and every run: a new connection deoptimises much of Node's
  // HTTP code, and the recompilation would be counted.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const headers = await side.prepare(server.url)
    await send(agent, server.url, side, headers, WARMUP)
    await control(pid, '-i', 'on')
    // The first requests after instrumentation starts cost several times more, and not alike
    // from one server to another: counted apart and left out, so that every run starts steady.
    await send(agent, server.url, side, headers, SETTLE)
    await control(pid, '-d')
    for (let i = 0; i < SEGMENTS; i++) {
      await send(agent, server.url, side, headers, SEGMENT)
      await control(pid, '-d')
    }
  } finally {
    agent.destroy()
    await stopServerAndWait(server.child, 120_000)
  }
  const perRequest: number[] = []
  for (let i = 2; i < SEGMENTS + 2; i++) {
    perRequest.push((await totalInstructions(`${out}.${i}`)) / SEGMENT)
  }
  if (KEEP) console.log(`  kept ${out}.2 … ${out}.${SEGMENTS + 1} (callgrind_annotate reads them)`)
  else
    for (let i = 0; i < SEGMENTS + 2; i++) await rm(i === 0 ? out : `${out}.${i}`, { force: true })
  return perRequest
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function main(): Promise<void> {
  stopServersOnExit()
  const secret = randomBytes(32).toString('base64url')
  const list = sides(secret)
  console.log(
    `bench:instructions: ${list.length} servers under callgrind: ${WARMUP} warm-up requests ` +
      `(not instrumented), ${SETTLE} left out, then ${SEGMENTS} runs of ${SEGMENT}; per ` +
      'request = the median run / its requests',
  )
  const results: {
    framework: string
    label: string
    file: string
    perRequest: number
    runs: number[]
  }[] = []
  for (const side of list) {
    const runs = await run(side, secret)
    const perRequest = median(runs)
    results.push({
      framework: side.framework,
      label: side.label,
      file: side.file,
      perRequest,
      runs,
    })
    // The spread of the runs: far apart when something (tier-up, a major GC) fell in some of them.
    const k0 = (n: number) => Math.round(n).toLocaleString('en-US')
    console.log(
      `  ${side.framework.padEnd(8)} ${side.label.padEnd(40)} ${k0(perRequest).padStart(9)} instructions/request (runs ${k0(Math.min(...runs))} to ${k0(Math.max(...runs))})`,
    )
  }
  console.log('')
  const rows: string[] = [
    '| framework | bare | floor | login-manager | floor − bare | login-manager − bare | ratio to the floor |',
    '|---|---|---|---|---|---|---|',
  ]
  const k = (n: number) => Math.round(n).toLocaleString('en-US')
  for (const framework of new Set(results.map((r) => r.framework))) {
    const of = (label: string) =>
      results.find((r) => r.framework === framework && r.label === label)?.perRequest
    const bare = of('bare')
    const floor = of('floor')
    const lm = of('login-manager')
    if (bare === undefined || floor === undefined || lm === undefined) continue
    rows.push(
      `| ${framework} | ${k(bare)} | ${k(floor)} | ${k(lm)} | ${k(floor - bare)} | ${k(lm - bare)} | ${((lm - bare) / (floor - bare)).toFixed(2)}× |`,
    )
  }
  console.log(rows.join('\n'))
  const logins = results.filter((r) => r.label.includes('POST /login'))
  if (logins.length > 0) {
    console.log('')
    for (const r of logins)
      console.log(`  ${r.framework.padEnd(8)} ${r.label.padEnd(40)} ${k(r.perRequest)}`)
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const file = join(ROOT, 'bench', 'results', `instructions-${stamp}.json`)
  await writeFile(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, warmup: WARMUP, settle: SETTLE, segment: SEGMENT, segments: SEGMENTS, results }, null, 2)}\n`,
  )
  console.log(`\nWrote ${file}`)
}

try {
  await main()
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exitCode = 1
}
