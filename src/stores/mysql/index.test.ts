import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Runs `script` (an ES module) in a fresh process; returns its standard output. */
function run(script: string): string {
  const result = spawnSync(
    process.execPath,
    ['--conditions=login-manager-source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  )
  assert.equal(result.status, 0, result.stderr)
  return result.stdout.trim()
}

/** Whether mysql2 is among the process's loaded CommonJS modules (it is one). */
const LOADED = `
  import { createRequire } from 'node:module'
  const cache = createRequire(import.meta.url).cache
  const loaded = () => Object.keys(cache).some((file) => /[\\\\/]node_modules[\\\\/]mysql2[\\\\/]/.test(file))
`

describe('login-manager/mysql loading', () => {
  it('no other entry point loads mysql2', () => {
    const out = run(`${LOADED}
      await import('login-manager')
      await import('login-manager/redis')
      await import('login-manager/testing')
      await import('login-manager/express')
      await import('login-manager/fetch')
      console.log(loaded())
    `)
    assert.equal(out, 'false')
  })

  it("login-manager/mysql loads it only to make a pool from a uri, not for the app's pool", () => {
    const out = run(`${LOADED}
      const { MySqlStore } = await import('login-manager/mysql')
      const pool = { getConnection: () => Promise.reject(new Error('no server')) }
      const given = new MySqlStore({ pool, cleanupInterval: 0, commandTimeout: 100 })
      await given.get('lm:{x}:s:1').catch(() => {})
      const before = loaded()
      const owned = new MySqlStore({ uri: 'mysql://nobody@127.0.0.1:1/none', cleanupInterval: 0, commandTimeout: 100 })
      await owned.get('lm:{x}:s:1').catch(() => {})
      await owned.close()
      console.log(before, loaded())
    `)
    assert.equal(out, 'false true')
  })
})
