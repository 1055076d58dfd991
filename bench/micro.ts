/**
 * Micro-benchmarks of what login-manager does on each request to a protected route, in-process
 * (no HTTP), to see which step costs what:
 *
 *   npx tsx --conditions=login-manager-source bench/micro.ts
 *
 * Each case runs in batches; the fastest batch is reported (interference from other processes
 * only ever adds time), with the median batch beside it.
 */
import { createHash, randomBytes } from 'node:crypto'
import { testLogin } from 'login-manager/testing'
import { getCookie } from '../src/cookie/parse.ts'
import { unseal } from '../src/crypto/seal.ts'
import { decodePayload } from '../src/session/payload.ts'
import type { AdapterRequest } from '../src/shared/types.ts'
import { USER_AGENT } from './lib/contenders.ts'
import { createBenchManager, User } from './lib/login-manager-app.ts'

const BATCHES = Number(process.env.MICRO_BATCHES ?? 30)
const TARGET_BATCH_MS = 20

interface CaseResult {
  readonly name: string
  readonly bestNs: number
  readonly medianNs: number
}

let sink: unknown

async function run(
  name: string,
  fn: () => unknown,
  options: { async?: boolean } = {},
): Promise<CaseResult> {
  const once = async (n: number) => {
    const start = process.hrtime.bigint()
    if (options.async) for (let i = 0; i < n; i++) sink = await fn()
    else for (let i = 0; i < n; i++) sink = fn()
    return Number(process.hrtime.bigint() - start)
  }
  // Calibrate a batch to ~TARGET_BATCH_MS, warming up the JIT on the way.
  let n = 100
  for (;;) {
    const ns = await once(n)
    if (ns > TARGET_BATCH_MS * 1e6 || n > 1e7) break
    n *= 2
  }
  const perOp: number[] = []
  for (let b = 0; b < BATCHES; b++) perOp.push((await once(n)) / n)
  perOp.sort((x, y) => x - y)
  return { name, bestNs: perOp[0]!, medianNs: perOp[perOp.length >> 1]! }
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

async function main(): Promise<void> {
  const manager = createBenchManager(randomBytes(32).toString('base64url'))
  const name = manager.options.session.name

  // The steady-state cookie: testLogin's, once bound to this client by a first request.
  const minted = await testLogin(manager, new User('leafstorm'))
  const first = manager.createAuth(adapter(minted))
  if ((await first.checkLogin()) !== null) throw new Error('the testLogin cookie was refused')
  const setCookie = first.commitResponse(200)?.cookies[0]
  if (setCookie === undefined) throw new Error('expected the first request to re-seal the session')
  const value = setCookie.slice(name.length + 1, setCookie.indexOf(';'))
  const cookie = `${name}=${value}`
  const keys = manager._keys.forPurpose('session')
  const opened = unseal(keys, value, name)
  if (!opened.ok) throw new Error('could not unseal the bound session')
  const plaintext = opened.plaintext

  const steady = manager.createAuth(adapter(cookie))
  if ((await steady.checkLogin()) !== null || steady.commitResponse(200)?.cookies.length !== 0) {
    throw new Error('the bound cookie should log in without re-issuing a cookie')
  }

  const results: CaseResult[] = []
  const add = async (label: string, fn: () => unknown, options?: { async?: boolean }) => {
    const result = await run(label, fn, options)
    results.push(result)
    console.log(
      `${result.name.padEnd(64)} ${(result.bestNs / 1000).toFixed(3).padStart(8)} µs` +
        `   (median ${(result.medianNs / 1000).toFixed(3)} µs)`,
    )
  }

  console.log(`cookie: ${cookie.length} bytes; session plaintext: ${plaintext}\n`)
  console.log(`${'case'.padEnd(64)} ${'best'.padStart(11)}`)
  await add(
    'whole guard path, async: createAuth + await checkLogin() + commit',
    async () => {
      const auth = manager.createAuth(adapter(cookie))
      const outcome = await auth.checkLogin()
      return auth.commitResponse(200) ?? outcome
    },
    { async: true },
  )
  await add('whole guard path, sync: createAuth + auth.user + commit', () => {
    const auth = manager.createAuth(adapter(cookie))
    const user = auth.user
    return auth.commitResponse(200) ?? user
  })
  await add('  createAuth (RequestAuth + adapter object)', () =>
    manager.createAuth(adapter(cookie)),
  )
  await add('  getCookie(header, name)', () => getCookie(cookie, name))
  await add('  backend.load(value), cache hit (Map lookup + decodePayload)', () =>
    manager._backend.load(value),
  )
  await add('  decodePayload(plaintext)', () => decodePayload(plaintext))
  await add('  JSON.parse(plaintext)', () => JSON.parse(plaintext))
  // The library memoises the identifier per client string; this is the uncached cost.
  await add('  session identifier, uncached: sha256(ip|user-agent) → base64url', () =>
    createHash('sha256').update(`127.0.0.1|${USER_AGENT}`).digest('base64url').slice(0, 22),
  )
  await add('  one promise hop: await Promise.resolve()', () => Promise.resolve(), { async: true })
  await add('unseal(value), on a cache miss (AES-256-GCM)', () => unseal(keys, value, name))
  if (sink === Symbol.for('never')) console.log(sink)
}

await main()
