/**
 * `npm run bench:redis`: the protected route with sessions in Redis, login-manager (`RedisStore`
 * over ioredis) against passport + express-session + connect-redis (node-redis), with bare
 * Express as the reference (without a cookie, and given login-manager's very request headers),
 * in one run. See bench/FRAMEWORKS.md.
 *
 * Same method as bench/run.ts and bench/frameworks.ts (whose harness this reuses). Both servers
 * talk to REDIS_URL (default redis://127.0.0.1:6379) under a prefix unique to this run; every key
 * under it is deleted at the end. Results go to stdout and bench/results/redis.json.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import {
  environment,
  fmt,
  type Group,
  loginOverHttp,
  printGroup,
  printPreamble,
  runGroup,
  runMain,
  settingsFromEnv,
  writeReport,
} from './frameworks.ts'
import { bareContenders } from './lib/contenders.ts'
import { choosePinning } from './lib/processes.ts'

/** login-manager must answer at least this many times as many requests as passport + connect-redis. */
const BUDGET = 1.5

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A client for the checks and the clean-up; rejects at once when Redis is unreachable. */
async function connect(): Promise<Redis> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return client
  } catch (error) {
    client.disconnect()
    throw new Error(
      `Redis is unreachable at ${REDIS_URL} (${error instanceof Error ? error.message : String(error)}).\n` +
        'Start one (e.g. `docker run --rm -p 6379:6379 redis:7` or `redis-server`) or set ' +
        'REDIS_URL, then run `npm run bench:redis` again.',
    )
  }
}

/** Deletes every key under `prefix`; returns how many. */
async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let deleted = 0
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) deleted += await client.del(...keys)
  } while (cursor !== '0')
  return deleted
}

async function main(): Promise<void> {
  const settings = settingsFromEnv()
  let client: Redis
  try {
    client = await connect()
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 2
    return
  }
  const prefix = `bench:${randomBytes(6).toString('hex')}:`
  try {
    const info = await client.info('server')
    const redisVersion = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown'
    const pinning = choosePinning()
    const secret = randomBytes(32).toString('base64url')
    const loadBefore = printPreamble('login-manager Redis bench', settings, pinning)
    console.log(`Redis ${redisVersion} at ${REDIS_URL}, keys under ${prefix}* (not pinned)`)

    const group: Group = {
      key: 'redis',
      title: 'Express 5, sessions in Redis',
      contenders: [
        // bare.ts twice; the second is loaded with login-manager's cookie (a signed store id).
        ...bareContenders('bare Express', 'bench/servers/bare.ts'),
        {
          key: 'login-manager',
          label: 'login-manager + RedisStore (ioredis)',
          role: 'login-manager',
          file: 'bench/servers/redis-login-manager.ts',
          env: { REDIS_URL, BENCH_REDIS_PREFIX: `${prefix}lm:` },
          prepare: loginOverHttp('login-manager + RedisStore'),
        },
        {
          key: 'passport',
          label: 'passport + express-session + connect-redis',
          role: 'peer',
          file: 'bench/servers/redis-passport.ts',
          env: { REDIS_URL, BENCH_REDIS_PREFIX: `${prefix}passport:` },
          prepare: loginOverHttp('passport + connect-redis'),
        },
      ],
    }

    console.log(`\n${group.title}`)
    const result = await runGroup(group, settings, pinning, secret)
    const rps = (key: string) => result.results.find((r) => r.key === key)!.requestsPerSecond
    const ratio = rps('login-manager') / rps('passport')
    const toBare = rps('login-manager') / rps('bare')
    const toSameRequest = rps('login-manager') / rps('bare-same-request')
    const lmCpu = result.results.find((r) => r.key === 'login-manager')!
    const ppCpu = result.results.find((r) => r.key === 'passport')!
    const ratioByServerCpu =
      lmCpu.serverCpuMicrosecondsPerRequest === null ||
      ppCpu.serverCpuMicrosecondsPerRequest === null
        ? null
        : ppCpu.serverCpuMicrosecondsPerRequest / lmCpu.serverCpuMicrosecondsPerRequest
    const budget = { minimumRatioToPassport: BUDGET, ratio, met: ratio >= BUDGET }

    printGroup(result)
    console.log('')
    console.log(`login-manager / passport + connect-redis: ${fmt(ratio, 2)}×`)
    console.log(
      `login-manager + RedisStore keeps ${fmt(100 * toBare, 1)}% of bare Express (no cookie), ` +
        `${fmt(100 * toSameRequest, 1)}% of bare Express given the same request ` +
        '(reported only: the budget is against passport + connect-redis).',
    )
    if (ratioByServerCpu !== null) {
      console.log(
        `Cross-check from server CPU time (Redis's own time not included): ${fmt(ratioByServerCpu, 2)}×`,
      )
    }
    const verdict =
      `login-manager answers ${fmt(ratio, 2)}× as many requests as passport + express-session + ` +
      `connect-redis; the budget is ≥ ${BUDGET}×`
    console.log(budget.met ? `Budget MET: ${verdict}.` : `Budget MISSED: ${verdict}.`)

    await writeReport('redis.json', {
      ...environment(loadBefore, settings, pinning),
      redis: { url: REDIS_URL.replace(/\/\/[^@/]*@/, '//***@'), version: redisVersion },
      results: Object.fromEntries(result.results.map(({ key, ...rest }) => [key, rest])),
      ratios: {
        loginManagerToPassport: ratio,
        loginManagerToPassportByServerCpu: ratioByServerCpu,
        loginManagerToBare: toBare,
        /** Against bare Express given login-manager's very request headers (its cookie). */
        loginManagerToSameRequest: toSameRequest,
        sameRequestToBare: rps('bare-same-request') / rps('bare'),
        passportToBare: rps('passport') / rps('bare'),
      },
      budget,
    })
  } finally {
    // runGroup has stopped the servers by now: nothing writes under the prefix any more.
    const deleted = await deleteKeys(client, prefix)
    console.log(`Deleted ${deleted} Redis key(s) under ${prefix}*`)
    client.disconnect()
  }
}

await runMain(main)
