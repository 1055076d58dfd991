/**
 * Where does a contender's time go? Runs one server under `node --cpu-prof`, loads it like
 * `npm run bench` does, then summarises the profile.
 *
 *   npx tsx --conditions=login-manager-source bench/profile.ts [login-manager|bare|passport|…]
 *   npx tsx --conditions=login-manager-source bench/profile.ts path/to/variant-server.ts
 *
 * BENCH_DURATION (s, default 10) and BENCH_CONNECTIONS (default 10) apply. The .cpuprofile is
 * kept in a temporary directory (open it in Chrome DevTools → Performance, or speedscope).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import os from 'node:os'
import { basename, join } from 'node:path'
import { type ContenderKey, contenders, headersFor, verify } from './lib/contenders.ts'
import { measure } from './lib/measure.ts'
import {
  choosePinning,
  ROOT,
  startServer,
  stopAllServers,
  stopServerAndWait,
  stopServersOnExit,
} from './lib/processes.ts'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Library code: the built package (dist/, the default) or its sources (BENCH_SOURCE=1). */
const LIBRARY = [`${join(ROOT, 'dist')}/`, `${join(ROOT, 'src')}/`]
const isLibrary = (url: string) => {
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url
  return LIBRARY.some((dir) => path.startsWith(dir))
}
/** Frames of the runtime itself: they are charged to the user-land code that called them. */
const isRuntime = (url: string) => url === '' || url.startsWith('node:')

function where(frame: CallFrame): string {
  const url = frame.url.startsWith('file://') ? frame.url.slice('file://'.length) : frame.url
  const short = url.startsWith(`${ROOT}/`) ? url.slice(ROOT.length + 1) : url
  return short === '' ? '' : `${short}:${frame.lineNumber + 1}`
}

function category(url: string): string {
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url
  if (isLibrary(path)) return 'login-manager'
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)
  if (match !== null) return match[1]!
  if (path.startsWith(`${ROOT}/`)) return path.slice(ROOT.length + 1).split('/')[0]!
  return path
}

function summarise(profile: CpuProfile, requests: number, windowSeconds: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id)

  const self = new Map<string, number>()
  const owner = new Map<string, number>()
  const inclusive = new Map<string, number>()
  // Only the load run: the last `windowSeconds` before the server exited (not its start-up).
  const times: number[] = []
  let clock = 0
  for (const dt of profile.timeDeltas) {
    clock += dt
    times.push(clock)
  }
  const from = clock - windowSeconds * 1e6
  let total = 0
  let busy = 0
  profile.samples.forEach((id, i) => {
    if (times[i]! < from) return
    const dt = profile.timeDeltas[i] ?? 0
    total += dt
    const leaf = byId.get(id)!
    const name = leaf.callFrame.functionName
    if (name === '(idle)') return
    busy += dt
    const leafKey = `${name || '(anonymous)'} ${where(leaf.callFrame)}`.trim()
    self.set(leafKey, (self.get(leafKey) ?? 0) + dt)
    // Charge the sample to the innermost user-land frame (library, framework or app code).
    let cat = name.startsWith('(') ? name : 'node (no user-land caller)'
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame
      if (!isRuntime(frame.url) && cat.startsWith('node (')) cat = category(frame.url)
      if (isLibrary(frame.url)) {
        const key = `${frame.functionName || '(anonymous)'} ${where(frame)}`
        if (!seen.has(key)) {
          seen.add(key)
          inclusive.set(key, (inclusive.get(key) ?? 0) + dt)
        }
      }
    }
    owner.set(cat, (owner.get(cat) ?? 0) + dt)
  })

  const us = (micros: number) => (micros / requests).toFixed(2).padStart(7)
  const pct = (micros: number) => `${((100 * micros) / busy).toFixed(1).padStart(5)}%`
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n)

  console.log(
    `\n${requests.toLocaleString('en-US')} requests; CPU busy ${(busy / 1e6).toFixed(2)} s of ` +
      `${(total / 1e6).toFixed(2)} s sampled = ${(busy / requests).toFixed(1)} µs per request ` +
      '(profiling adds overhead; compare shares, not absolutes)',
  )
  console.log('\nBy innermost user-land caller (runtime work charged to whoever asked for it):')
  console.log('   µs/req   share  owner')
  for (const [key, t] of top(owner, 15)) console.log(`  ${us(t)}  ${pct(t)}  ${key}`)
  console.log('\nTop functions by self time:')
  console.log('   µs/req   share  function')
  for (const [key, t] of top(self, 30)) console.log(`  ${us(t)}  ${pct(t)}  ${key}`)
  if (inclusive.size > 0) {
    console.log('\nlogin-manager functions by inclusive time (includes what they call):')
    console.log('   µs/req   share  function')
    for (const [key, t] of top(inclusive, 25)) console.log(`  ${us(t)}  ${pct(t)}  ${key}`)
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2] ?? 'login-manager'
  const secret = randomBytes(32).toString('base64url')
  const all = contenders(secret)
  // A contender's name, or the path of another server (a variant) logged in like login-manager's.
  const known = all.find((c) => c.key === (arg as ContenderKey))
  const contender = known ?? {
    ...all.find((c) => c.key === 'login-manager')!,
    label: arg,
    file: arg,
  }
  if (known === undefined && !arg.endsWith('.ts')) {
    throw new Error(
      `unknown contender ${JSON.stringify(arg)}: ${all.map((c) => c.key).join(', ')} or a .ts server`,
    )
  }
  const key = known?.key ?? basename(arg, '.ts')
  const durationSeconds = Number(process.env.BENCH_DURATION ?? 10)
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10)
  stopServersOnExit()
  const pinning = choosePinning()
  const dir = await mkdtemp(join(os.tmpdir(), `bench-profile-${key}-`))
  const server = await startServer(contender.file, { BENCH_SECRET: secret }, pinning.server, [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ])
  // "bare-same-request" is loaded with login-manager's headers: its server (not profiled) binds
  // the session once, then idles during the run.
  const source =
    known?.headersFrom === undefined
      ? null
      : await startServer(
          all.find((c) => c.key === known.headersFrom)!.file,
          { BENCH_SECRET: secret },
          pinning.server,
        )
  const headers = await headersFor(contender, all, (k) =>
    k === contender.key || source === null ? server.url : source.url,
  )
  if (source !== null) await stopServerAndWait(source.child)
  await verify(contender, server.url, headers)
  console.log(`Profiling ${contender.label} for ${durationSeconds} s…`)
  const run = await measure(server.url, headers, { connections, pipelining: 1, durationSeconds })
  console.log(
    `${Math.round(run.requestsPerSecond).toLocaleString('en-US')} req/s under the profiler, ` +
      `${run.non2xx} non-2xx`,
  )
  await stopServerAndWait(server.child)
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (the others
  // are helpers, such as tsx's module loader).
  const file = (await readdir(dir)).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
  if (file === undefined) throw new Error(`no .cpuprofile written in ${dir}`)
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile
  // Requests made by prepare/verify are a handful: negligible next to the run.
  summarise(profile, run.totalRequests, run.totalRequests / run.requestsPerSecond)
  console.log(`Requests measured: ${run.totalRequests}`)
  console.log(`\nProfile: ${join(dir, file)}`)
}

try {
  await main()
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exitCode = 1
} finally {
  stopAllServers()
}
