// What a newcomer reads first stays right: no port 5000 (AirPlay's on macOS) and no ignored
// PORT, no top-level await in the examples (they must run in a CommonJS project too), no
// "older versions" in a first release, and the Next.js advice as it is for Next.js 16.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(join(root, file), 'utf8')
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
const snippets = readdirSync(join(root, 'examples/snippets')).map((f) => `examples/snippets/${f}`)

/** Line numbers of the `await`s outside any function (top-level await) in a TypeScript file. */
function topLevelAwaits(file: string): number[] {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true)
  const found: number[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) {
      found.push(source.getLineAndCharacterOfPosition(node.getStart()).line + 1)
    }
    ts.forEachChild(node, visit)
  }
  ts.forEachChild(source, visit)
  return found
}

describe('docs for a newcomer', () => {
  it('no page or snippet hard-codes port 5000; the examples listen on PORT', () => {
    for (const file of [...pages, ...snippets, 'examples/start.ts']) {
      assert.doesNotMatch(read(file), /\b5000\b/, file)
    }
    // The snippets that are apps to run ("// Run it: …"), not tests.
    const apps = snippets.filter((f) => /^\/\/ Run it\b/m.test(read(f)))
    assert.ok(apps.length >= 7, apps.join(', '))
    for (const file of apps) {
      assert.match(read(file), /process\.env\.PORT/, `${file} listens on PORT`)
    }
  })

  it('no snippet uses top-level await, which a CommonJS project refuses (TS1309)', () => {
    for (const file of snippets) {
      assert.deepEqual(topLevelAwaits(file), [], file)
    }
  })

  it('no page speaks of older versions', () => {
    for (const file of pages) assert.doesNotMatch(read(file), /older versions?/i, file)
  })

  it('the Fetch page: proxy.ts runs on Node.js, "type": "commonjs" and FetchLogin', () => {
    const fetch = read('docs/fetch.md')
    assert.doesNotMatch(fetch, /middleware\.ts`?\) runs on the Edge runtime by default/)
    assert.match(fetch, /`proxy\.ts` \(the new name of `middleware\.ts`\) always runs on Node\.js/)
    assert.match(fetch, /`npm pkg delete type`/)
    assert.match(fetch, /- `FetchLogin<User, Id>` is what `fetchLogin\(manager\)` returns/)
  })
})
