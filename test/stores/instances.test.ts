/**
 * Many instances, one Redis: three processes of the basic example (`examples/start.ts`, on
 * Express, Hono and Fastify) share `REDIS_URL` under one `REDIS_PREFIX` unique to the run, with
 * the same `SESSION_SECRET`. A login through one is recognised by the others; a logout through
 * another is refused by all (session and remember cookies); `logoutEverywhere` called from this
 * process takes effect on every instance at its next request.
 *
 * Without Redis the test is skipped with a printed reason, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Redis } from 'ioredis'
import { RedisStore } from 'login-manager/redis'
import { instanceScenarios, type Instance as ScenarioInstance } from './instance-scenarios.ts'
import {
  deleteByPrefix,
  freePort,
  ON_CI,
  probeRedis,
  REDIS_URL,
  rawClient,
  scanKeys,
  sleep,
} from './support.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START_ARGS = ['--conditions=login-manager-source', '--import', 'tsx', 'examples/start.ts']
const STARTUP_MS = 30_000
const SECRET = randomBytes(32).toString('base64url')
const PREFIX = `lminst-${randomUUID().slice(0, 8)}:`
const FRAMEWORKS = ['express', 'hono', 'fastify'] as const

interface Instance extends ScenarioInstance {
  readonly child: ChildProcess
  output(): string
}

const children = new Set<ChildProcess>()

/** Spawns one instance in its own process group. */
function spawnInstance(framework: string, port: number): Instance {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FRAMEWORK: framework,
    PORT: String(port),
    HOST: '127.0.0.1',
    SESSION_STORE: 'redis',
    SESSION_SECRET: SECRET,
    REDIS_URL,
    REDIS_PREFIX: PREFIX,
  }
  delete env.NODE_TEST_CONTEXT
  const child = spawn(process.execPath, START_ARGS, {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let output = ''
  const collect = (chunk: string) => {
    output = (output + chunk).slice(-8000)
  }
  child.stdout?.setEncoding('utf8').on('data', collect)
  child.stderr?.setEncoding('utf8').on('data', collect)
  return { name: framework, base: `http://127.0.0.1:${port}`, child, output: () => output }
}

/** Ends a child's whole process group: SIGTERM, then SIGKILL if it lingers. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), signal)
    } catch {
      // Already gone.
    }
  }
  signalGroup('SIGTERM')
  const timer = setTimeout(() => signalGroup('SIGKILL'), 3_000)
  await gone
  clearTimeout(timer)
}

/** Waits until the instance answers HTTP; fails with its output when it exits or times out. */
async function waitUntilServing(instance: Instance): Promise<void> {
  const deadline = Date.now() + STARTUP_MS
  for (;;) {
    const { exitCode, signalCode } = instance.child
    if (exitCode !== null || signalCode !== null) {
      assert.fail(
        `${instance.name} exited (${exitCode ?? signalCode}) before serving:\n${instance.output()}`,
      )
    }
    try {
      const res = await fetch(`${instance.base}/`, { redirect: 'manual' })
      await res.arrayBuffer()
      if (res.status === 200) return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      assert.fail(`${instance.name} did not answer within ${STARTUP_MS} ms:\n${instance.output()}`)
    }
    await sleep(100)
  }
}

const unreachable = await probeRedis()

if (unreachable !== null && !ON_CI) {
  console.log(`# skipping the three-instance test: ${unreachable}`)
}

describe('three instances sharing one Redis', {
  skip: unreachable !== null && !ON_CI ? unreachable : false,
}, () => {
  if (unreachable !== null) {
    it('needs a reachable Redis on CI', () => {
      assert.fail(`${unreachable}. Start Redis or set REDIS_URL; on CI this test must run.`)
    })
    return
  }

  let instances: Instance[] = []
  let client: Redis | undefined

  before(async () => {
    client = rawClient()
    const ports = await Promise.all(FRAMEWORKS.map(() => freePort()))
    instances = FRAMEWORKS.map((framework, i) => spawnInstance(framework, ports[i] as number))
    await Promise.all(instances.map(waitUntilServing))
  })

  after(async () => {
    await Promise.all([...children].map(stop))
    if (client !== undefined) {
      try {
        await deleteByPrefix(client, PREFIX)
        assert.equal((await scanKeys(client, PREFIX)).length, 0)
      } finally {
        client.disconnect()
      }
    }
  })

  instanceScenarios(() => ({
    instances: instances as [Instance, Instance, Instance],
    secret: SECRET,
    outsideStore: new RedisStore({ client: client as Redis, prefix: PREFIX }),
    storedKeys: () => scanKeys(client as Redis, PREFIX),
  }))

  it('every instance is still running', () => {
    for (const instance of instances) {
      assert.equal(instance.child.exitCode, null, `${instance.name}:\n${instance.output()}`)
    }
  })
})
