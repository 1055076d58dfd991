import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

// The Fetch and Hono adapters run on Bun, Deno and edge runtimes: nothing they load at run time
// may import a Node module (type-only imports are erased and do not count).
function runtimeNodeImports(entry: string): string[] {
  const seen = new Set<string>()
  const found = new Set<string>()
  const walk = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(
      /^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm,
    )) {
      const target = match[1] as string
      if (target.startsWith('node:')) found.add(`${target} (${file})`)
      else if (target.startsWith('.')) walk(resolve(dirname(file), target))
    }
  }
  walk(entry)
  return [...found]
}

const here = dirname(fileURLToPath(import.meta.url))

describe('portable adapters', () => {
  for (const name of ['fetch', 'hono']) {
    it(`${name} imports no node: module at run time`, () => {
      assert.deepEqual(runtimeNodeImports(resolve(here, `${name}.ts`)), [])
    })
  }
  it('the check sees Node imports where there are some', () => {
    assert.ok(
      runtimeNodeImports(resolve(here, '../crypto/seal.ts')).some((m) =>
        m.startsWith('node:crypto'),
      ),
    )
  })
})
