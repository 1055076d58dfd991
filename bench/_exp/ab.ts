import { randomBytes } from 'node:crypto'
import { contenders, verify } from '../lib/contenders.ts'
import { measure } from '../lib/measure.ts'
import { choosePinning, startServer, stopAllServers, stopServersOnExit } from '../lib/processes.ts'

const files = process.argv.slice(2)
const secret = randomBytes(32).toString('base64url')
const lm = contenders(secret).find((c) => c.key === 'login-manager')!
stopServersOnExit()
const pin = choosePinning()
const servers = []
for (const f of files) servers.push({ f, s: await startServer(f, { BENCH_SECRET: secret }, pin.server) })
const rounds = Number(process.env.R ?? 3)
const dur = Number(process.env.D ?? 5)
const res = new Map<string, number[]>()
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? servers : [...servers].reverse()
    for (const { f, s } of order) {
      const headers = await lm.prepare(s.url)
      await verify({ ...lm, label: f }, s.url, headers)
      await measure(s.url, headers, { connections: 10, pipelining: 1, durationSeconds: 2 })
      const run = await measure(s.url, headers, { connections: 10, pipelining: 1, durationSeconds: dur })
      if (run.non2xx) throw new Error(`${f} non2xx`)
      res.set(f, [...(res.get(f) ?? []), run.requestsPerSecond])
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!
  const base = med(res.get(files[0]!)!)
  for (const [f, v] of res) {
    const m = med(v)
    console.log(`${f.padEnd(34)} ${m.toFixed(0).padStart(6)} req/s  ${(100 * m / base).toFixed(1)}%  +${(1e6 / m - 1e6 / base).toFixed(1)} µs  [${v.map((x) => x.toFixed(0)).join(', ')}]`)
  }
} finally {
  stopAllServers()
}
