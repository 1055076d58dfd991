// `pg` is an optional peer dependency: importing login-manager or any subpath other than
// login-manager/postgres must not load it (an app without pg installed must work), and
// login-manager/postgres must (it is the one that needs it).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const exportsMap = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).exports as Record<
  string,
  unknown
>
const subpaths = Object.keys(exportsMap)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'login-manager' : `login-manager/${key.slice(2)}`))

/** Imports `specifier` in a fresh process; whether `pg` ended up loaded. */
async function loadsPg(specifier: string): Promise<boolean> {
  const script = `
    import { createRequire } from 'node:module'
    await import(${JSON.stringify(specifier)})
    const cache = Object.keys(createRequire(import.meta.url).cache)
    console.log(cache.some((file) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(file)) ? 'pg' : 'none')
  `
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=login-manager-source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: ROOT },
  )
  return stdout.trim() === 'pg'
}

describe('pg is loaded only by login-manager/postgres', () => {
  for (const specifier of subpaths) {
    const expected = specifier === 'login-manager/postgres'
    it(`import '${specifier}' ${expected ? 'loads' : 'does not load'} pg`, async () => {
      assert.equal(await loadsPg(specifier), expected)
    })
  }
})
