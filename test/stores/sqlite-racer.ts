/**
 * One racer of `sqlite-processes.test.ts`: a process with its own SqliteStore on the shared
 * file. It opens the store, prints `ready`, waits for `go` on stdin, runs every round of every
 * race as fast as it can, and prints what it won as one JSON line. Not a test file itself.
 *
 * Usage: sqlite-racer.ts <path> <racer id> <rounds> <role: both | logout | restore>
 *
 * @module
 */
import { SqliteStore } from 'login-manager/sqlite'
import { raceKeys } from './sqlite-race-keys.ts'

const [path, id, roundsText] = process.argv.slice(2) as [string, string, string]
const rounds = Number(roundsText)
const store = new SqliteStore({ path, busyTimeout: 50, commandTimeout: 30_000 })

async function race(): Promise<Record<string, unknown>> {
  const started = Date.now()
  const created: number[] = []
  const swapped: number[] = []
  const rotated: number[] = []
  // Create-if-absent: one record per round, every racer tries.
  for (let r = 0; r < rounds; r++) {
    const k = raceKeys('create', r)
    const won = await store.write(k.record, {
      mode: 'create',
      set: { w: id },
      ttl: 600,
      index: k.index,
    })
    if (won) created.push(r)
  }
  // Compare-and-set on a value every racer read as `read`.
  for (let r = 0; r < rounds; r++) {
    const k = raceKeys('cas', r)
    const won = await store.write(k.record, {
      mode: 'update',
      set: { h: id },
      ttl: 600,
      expect: { h: 'read' },
    })
    if (won) swapped.push(r)
  }
  // Different fields of one record: every write must persist.
  let fieldsWritten = 0
  for (let r = 0; r < rounds; r++) {
    const k = raceKeys('fields', 0)
    if (await store.write(k.record, { mode: 'update', set: { [`${id}-${r}`]: '1' }, ttl: 600 })) {
      fieldsWritten++
    }
  }
  // Rotations of one record that each require it: one per round may win.
  for (let r = 0; r < rounds; r++) {
    const k = raceKeys('rotate', r)
    const won = await store.write(k.mine(id), {
      mode: 'create',
      set: { u: '1' },
      ttl: 600,
      index: k.index,
      replaces: k.record,
      replacesIndex: k.index,
      requires: k.record,
    })
    if (won) rotated.push(r)
  }
  // Restores from a token racing "log out everywhere" of its user (odd racers log out).
  const logout = Number(id.replace(/\D/g, '')) % 2 === 1
  for (let r = 0; r < rounds; r++) {
    const k = raceKeys('everywhere', r)
    if (logout) {
      for (let pass = 0; pass < 10; pass++) if ((await store.destroyIndex(k.index)) === 0) break
    } else {
      await store.write(k.mine(id), {
        mode: 'create',
        set: { u: '1' },
        ttl: 600,
        index: k.index,
        requires: k.record,
      })
    }
  }
  return { id, created, swapped, fieldsWritten, rotated, logout, started, ended: Date.now() }
}

process.stdout.write('ready\n')
process.stdin.once('data', () => {
  race().then(
    async (result) => {
      await store.close()
      process.stdout.write(`${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
      process.exit(1)
    },
  )
})
