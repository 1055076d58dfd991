// Checks the built package as a consumer sees it: every `exports` entry resolves to a built file
// that imports cleanly and has its type declarations beside it.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
let failures = 0
let passed = 0
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue
  const file = join(root, target.import)
  const types = join(root, target.types)
  if (!existsSync(file) || !existsSync(types)) {
    console.error(`not ok ${subpath}: missing ${existsSync(file) ? target.types : target.import}`)
    failures++
    continue
  }
  try {
    const mod = await import(pathToFileURL(file).href)
    if (Object.keys(mod).length === 0) throw new Error('exports nothing')
    passed++
    console.log(`ok ${subpath} -> ${target.import} (${Object.keys(mod).length} exports)`)
  } catch (error) {
    console.error(`not ok ${subpath}: ${error.message}`)
    failures++
  }
}
console.log(`package exports: ${passed} resolved, ${failures} broken`)
process.exit(failures === 0 ? 0 : 1)
