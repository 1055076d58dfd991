/**
 * Several processes on one SQLite file (WAL): three racer processes (`sqlite-racer.ts`), each
 * with its own SqliteStore and connection, released at once and running the same rounds of
 * every race as fast as they can: create-if-absent, compare-and-set, writes of different fields
 * of one record, rotations that require the record they replace, and restores racing "log out
 * everywhere". Each guarantee must hold across processes exactly as within one: one winner per
 * round, no lost field, nothing restored after a logout.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { SqliteStore } from 'login-manager/sqlite'
import { raceKeys } from './sqlite-race-keys.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const RACER = [
  '--conditions=login-manager-source',
  '--import',
  'tsx',
  'test/stores/sqlite-racer.ts',
]
const RACERS = ['p0', 'p1', 'p2']
const ROUNDS = 120
const dir = mkdtempSync(join(tmpdir(), 'lm-sqlite-processes-'))
const children = new Set<ChildProcess>()
after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

interface Result {
  id: string
  created: number[]
  swapped: number[]
  fieldsWritten: number
  rotated: number[]
  logout: boolean
  started: number
  ended: number
}

interface Racer {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly result: Promise<Result>
}

function startRacer(path: string, id: string): Racer {
  const child = spawn(process.execPath, [...RACER, path, id, String(ROUNDS)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  let markReady!: () => void
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (stdout.includes('ready\n')) markReady()
  })
  const result = once(child, 'exit').then(([code]) => {
    assert.equal(code, 0, `racer ${id} failed:\n${stderr}`)
    const line = stdout.split('\n').find((l) => l.startsWith('{'))
    assert.ok(line !== undefined, `racer ${id} printed no result:\n${stdout}\n${stderr}`)
    return JSON.parse(line) as Result
  })
  return { child, ready: Promise.race([ready, result.then(() => {})]), result }
}

/** The racers that won round `r` of a race. */
function winners(results: Result[], pick: (r: Result) => number[], r: number): string[] {
  return results.filter((result) => pick(result).includes(r)).map((result) => result.id)
}

describe('several processes on one SQLite file (WAL)', () => {
  it(`three processes race ${ROUNDS} rounds of each guarantee; every one holds`, async (t) => {
    const path = join(dir, 'shared.db')
    const store = new SqliteStore({ path })
    await store.createSchema()
    const put = (key: string, set: Record<string, string>, index?: string) =>
      store.write(key, { mode: 'create', set, ttl: 600, index })
    for (let r = 0; r < ROUNDS; r++) {
      await put(raceKeys('cas', r).record, { h: 'read', other: 'kept' })
      await put(raceKeys('rotate', r).record, { u: '1' }, raceKeys('rotate', r).index)
      await put(raceKeys('everywhere', r).record, { u: '1' }, raceKeys('everywhere', r).index)
    }
    await put(raceKeys('fields', 0).record, { base: '1' })

    const racers = RACERS.map((id) => startRacer(path, id))
    await Promise.all(racers.map((racer) => racer.ready))
    for (const racer of racers) racer.child.stdin?.write('go\n')
    const results = await Promise.all(racers.map((racer) => racer.result))
    const overlap =
      Math.min(...results.map((r) => r.ended)) - Math.max(...results.map((r) => r.started))
    t.diagnostic(`the racers ran side by side for ${overlap} ms`)

    for (let r = 0; r < ROUNDS; r++) {
      const created = winners(results, (x) => x.created, r)
      assert.equal(created.length, 1, `create round ${r}: won by ${created}`)
      const record = await store.get(raceKeys('create', r).record)
      assert.equal(record?.w, created[0], `create round ${r}: the record is the winner's`)
      assert.deepEqual(await store.members(raceKeys('create', r).index), [
        raceKeys('create', r).record,
      ])

      const swapped = winners(results, (x) => x.swapped, r)
      assert.equal(swapped.length, 1, `compare-and-set round ${r}: won by ${swapped}`)
      const cas = await store.get(raceKeys('cas', r).record)
      assert.deepEqual({ ...cas }, { h: swapped[0], other: 'kept' }, `compare-and-set round ${r}`)

      const k = raceKeys('rotate', r)
      const rotated = winners(results, (x) => x.rotated, r)
      assert.equal(rotated.length, 1, `rotation round ${r}: won by ${rotated}`)
      assert.equal(await store.get(k.record), null, `rotation round ${r}: the old record is back`)
      for (const id of RACERS) {
        const expected = id === rotated[0] ? { u: '1' } : null
        const got = await store.get(k.mine(id))
        assert.deepEqual(got === null ? null : { ...got }, expected, `rotation round ${r}, ${id}`)
      }
      assert.deepEqual(await store.members(k.index), [k.mine(rotated[0] as string)])

      const e = raceKeys('everywhere', r)
      assert.equal(await store.get(e.record), null, `everywhere round ${r}: the token survived`)
      for (const id of RACERS) {
        assert.equal(await store.get(e.mine(id)), null, `everywhere round ${r}: ${id} restored`)
      }
      assert.deepEqual(await store.members(e.index), [], `everywhere round ${r}`)
    }

    const fields = await store.get(raceKeys('fields', 0).record)
    assert.ok(fields !== null)
    for (const result of results) {
      assert.equal(result.fieldsWritten, ROUNDS, `${result.id}: a field write was refused`)
      for (let r = 0; r < ROUNDS; r++) {
        assert.equal(fields[`${result.id}-${r}`], '1', `${result.id}-${r} was lost`)
      }
    }
    assert.equal(Object.keys(fields).length, 1 + RACERS.length * ROUNDS)
    await store.close()

    const db = new Database(path, { readonly: true })
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    db.close()
  })
})
