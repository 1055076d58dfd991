/**
 * Session records that do not decode, with real bytes in the real Redis, through `RedisStore`
 * over ioredis and over node-redis, on every adapter layout:
 *
 * - a value that is not valid UTF-8 (written as raw bytes by a second client; both Redis clients
 *   decode it leniently to U+FFFD) is no session, and its record is deleted;
 * - so is a field name that is not valid UTF-8, and a value nested 100k levels deep; a re-login
 *   or a logout that meets such a record answers 200;
 * - everything login-manager writes is ASCII at the byte level, app data in any script included.
 *
 * Keys live under a prefix unique to the run, deleted afterwards. Without Redis the file is
 * skipped with a printed reason, except on CI (`CI=true`).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { Redis } from 'ioredis'
import { LoginManager, UserMixin } from 'login-manager'
import { RedisStore } from 'login-manager/redis'
import { createClient } from 'redis'
import { adapters } from '../conformance/adapters/index.ts'
import {
  type AdapterHarness,
  type AppSpec,
  type RouteDef,
  withApp,
} from '../conformance/harness.ts'
import type { TestClient } from '../support/client.ts'
import {
  deleteByPrefix,
  ON_CI,
  probeRedis,
  REDIS_URL,
  rawClient,
  scanKeys,
  sessionKeyOf,
} from './support.ts'

const SECRET = 'session-records-suite-secret-Hq3Zt8Wn5Kc1Ry7Pb2'
const SESSION = '__Host-session'
const RUN = `lmrec-${randomUUID().slice(0, 8)}:`

class Member extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super()
  }
}
const notch = new Member('1', 'Notch')

const redisUnreachable = await probeRedis()

function routes(): RouteDef<Member>[] {
  return [
    { path: '/login-notch', handler: async ({ auth }) => String(await auth.loginUser(notch)) },
    { path: '/logout', handler: async ({ auth }) => String(await auth.logoutUser()) },
    {
      path: '/username',
      handler: async ({ auth }) => (await auth.getUser())?.name ?? 'Anonymous',
    },
    {
      path: '/set',
      handler: ({ auth, query }) => {
        auth.session.set(query('k') ?? 'k', query('v') ?? 'v')
        auth.flash(`${query('v')}!`, 'info')
        return 'set'
      },
    },
    {
      path: '/get',
      handler: ({ auth, query }) => JSON.stringify(auth.session.get(query('k') ?? 'k') ?? null),
    },
  ]
}

async function expect200(client: TestClient, path: string): Promise<string> {
  const res = await client.get(path)
  assert.equal(res.status, 200, `${path} answered ${res.status}: ${res.body}`)
  return res.body
}

if (redisUnreachable !== null) {
  if (ON_CI) {
    describe('Redis for the session record tests', () => {
      it('needs a reachable Redis on CI', () => assert.fail(redisUnreachable))
    })
  } else {
    console.log(`# skipping the session record tests: ${redisUnreachable}`)
  }
}

describe('session records in Redis', { skip: redisUnreachable ?? false }, () => {
  let raw: Redis
  let nodeRedis: ReturnType<typeof createClient>
  let counter = 0

  before(async () => {
    raw = rawClient()
    nodeRedis = createClient({ url: REDIS_URL })
    nodeRedis.on('error', (err: Error) => console.error(`# node-redis: ${err.message}`))
    await nodeRedis.connect()
  })
  after(async () => {
    try {
      await deleteByPrefix(raw, RUN)
      assert.deepEqual(await scanKeys(raw, RUN), [], 'keys of this run are left in Redis')
    } finally {
      raw.disconnect()
      await nodeRedis.quit()
    }
  })

  /** A fresh prefix and app over RedisStore with `client`; the body gets the browser and the prefix. */
  async function withRedisApp(
    adapter: AdapterHarness,
    client: 'ioredis' | 'node-redis',
    body: (browser: TestClient, prefix: string) => Promise<void>,
  ): Promise<void> {
    const prefix = `${RUN}${++counter}:`
    const store = new RedisStore({ client: client === 'ioredis' ? raw : nodeRedis, prefix })
    const manager = new LoginManager<Member, string>({
      secret: SECRET,
      userLoader: (id) => (id === '1' ? notch : null),
      session: { store },
    })
    const spec: AppSpec<Member> = { manager, routes: routes() }
    await withApp(adapter, spec, (browser) => body(browser, prefix))
  }

  /** The Redis key of the browser's session record. */
  function recordKey(browser: TestClient, prefix: string): string {
    const value = browser.jar.get(SESSION)?.value
    assert.ok(value !== undefined, 'the browser has a session cookie')
    return prefix + sessionKeyOf(value)
  }

  for (const adapter of adapters) {
    for (const client of ['ioredis', 'node-redis'] as const) {
      describe(`${adapter.name} × RedisStore over ${client}`, () => {
        const corruptions: Record<string, (key: string) => Promise<unknown>> = {
          'a value that is not valid UTF-8': (key) =>
            // "M\xff\xfeller": two bytes that never occur in UTF-8.
            raw.hset(key, 'd:name', Buffer.from([0x22, 0x4d, 0xff, 0xfe, 0x6c, 0x6c, 0x22])),
          'a field name that is not valid UTF-8': (key) =>
            raw.hset(key, Buffer.from([0x64, 0x3a, 0xc3, 0x28]), Buffer.from('1')),
          'a value nested 100k levels deep': (key) =>
            raw.hset(key, 'd:deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`),
        }

        for (const [label, corrupt] of Object.entries(corruptions)) {
          it(`${label}: no session, the record deleted, login and logout work`, async () => {
            await withRedisApp(adapter, client, async (browser, prefix) => {
              assert.equal(await expect200(browser, '/login-notch'), 'true')
              const key = recordKey(browser, prefix)
              await corrupt(key)
              assert.equal(await expect200(browser, '/username'), 'Anonymous')
              assert.equal(await raw.exists(key), 0, 'the corrupt record is deleted')
              assert.equal(await expect200(browser, '/login-notch'), 'true')
              assert.equal(await expect200(browser, '/username'), 'Notch')
              assert.equal(await expect200(browser, '/logout'), 'true')
              assert.equal(await expect200(browser, '/username'), 'Anonymous')
            })
          })
        }

        it('a corrupt record met first by a re-login, or by a logout: 200', async () => {
          for (const first of ['/login-notch', '/logout']) {
            await withRedisApp(adapter, client, async (browser, prefix) => {
              assert.equal(await expect200(browser, '/login-notch'), 'true')
              const key = recordKey(browser, prefix)
              await raw.hset(key, 'd:deep', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`)
              await expect200(browser, first)
              assert.equal(await raw.exists(key), 0)
            })
          }
        })

        it('app data in any script is stored as ASCII bytes and read back', async () => {
          await withRedisApp(adapter, client, async (browser, prefix) => {
            assert.equal(await expect200(browser, '/login-notch'), 'true')
            const k = encodeURIComponent('größe 佐藤')
            const v = encodeURIComponent('Grüße 💥 "\\')
            assert.equal(await expect200(browser, `/set?k=${k}&v=${v}`), 'set')
            assert.equal(await expect200(browser, `/get?k=${k}`), JSON.stringify('Grüße 💥 "\\'))
            const stored = await raw.hgetallBuffer(recordKey(browser, prefix))
            assert.ok(Object.keys(stored).length > 0)
            for (const [name, bytes] of Object.entries(stored)) {
              assert.ok(/^[\x20-\x7e]+$/.test(name), `field ${name}`)
              assert.ok(
                bytes.every((b) => b >= 0x20 && b < 0x7f),
                `${name}: ${bytes}`,
              )
            }
          })
        })
      })
    }
  }
})
