// Checks the built package as a consumer sees it: every `exports` entry resolves to a built file
// that loads cleanly both through `import` and through `require()` (Node's require of an ES
// module, which `engines` asks for), gives the same module either way, and has its type
// declarations beside it.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
const require = createRequire(join(root, 'package.json'))
let failures = 0
let passed = 0
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue
  const file = join(root, target.default)
  const types = join(root, target.types)
  if (!existsSync(file) || !existsSync(types)) {
    console.error(`not ok ${subpath}: missing ${existsSync(file) ? target.types : target.default}`)
    failures++
    continue
  }
  try {
    const imported = await import(pathToFileURL(file).href)
    if (Object.keys(imported).length === 0) throw new Error('exports nothing')
    const required = require(file)
    for (const name of Object.keys(imported)) {
      if (required[name] !== imported[name]) throw new Error(`require() gives another ${name}`)
    }
    passed++
    console.log(`ok ${subpath} -> ${target.default} (${Object.keys(imported).length} exports)`)
  } catch (error) {
    console.error(`not ok ${subpath}: ${error.message}`)
    failures++
  }
}
console.log(`package exports: ${passed} resolved, ${failures} broken`)
process.exit(failures === 0 ? 0 : 1)
