// The package as a newcomer gets it. A clean copy of the repository (its tracked files, no
// dist/, no build) is packed with `npm pack`, whose `prepare` script builds dist/. The tarball
// is installed into two projects made by `npm init -y`, one CommonJS (npm 11 writes
// "type": "commonjs") and one ESM, offline: from the tarball itself (login-manager has no
// dependencies) and the frameworks this repository has already installed, linked in. In each
// project the README's quick start runs as printed and answers the login flow over HTTP, plain
// JavaScript loads every entry point (require() in one, import in the other), and `tsc --noEmit`
// checks a strict TypeScript file that uses each adapter.
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { TestClient } from '../support/client.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CONSUMER = fileURLToPath(new URL('./consumer/', import.meta.url))
const QUICKSTART = join(ROOT, 'examples/snippets/quickstart.ts')
/** The complete apps of the framework pages, each run as their pages say (`npx tsx app.ts`). */
const FRAMEWORK_APPS = ['hono-app', 'fastify-app', 'koa-app']
const run = promisify(execFile)

// What a newcomer installs beside login-manager, taken from this repository's node_modules.
const LINKED = [
  'express',
  'hono',
  '@hono/node-server',
  'fastify',
  'koa',
  'ioredis',
  'better-sqlite3',
  'tsx',
  'typescript',
  '@types/node',
  '@types/express',
  '@types/koa',
]
const BINS = ['tsx', 'tsc']

let scratch = ''
let tarball = ''
let packedFiles: string[] = []
const children = new Set<ChildProcess>()

/**
 * The environment of every command: nothing inherited from an outer `npm test` (npm_* settings,
 * NODE_OPTIONS with the source condition), npm offline with a cache of its own, so that nothing
 * can come from the network or from an earlier install.
 */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (name.toLowerCase().startsWith('npm_') || name === 'NODE_OPTIONS') continue
    if (name === 'NODE_TEST_CONTEXT' || name === 'SESSION_SECRET' || name === 'PORT') continue
    out[name] = value
  }
  return {
    ...out,
    npm_config_offline: 'true',
    npm_config_cache: join(scratch, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  }
}

async function sh(cwd: string, command: string, args: string[], extra?: Record<string, string>) {
  try {
    return await run(command, args, { cwd, env: env(extra), maxBuffer: 16 << 20 })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    assert.fail(
      `${command} ${args.join(' ')} failed in ${cwd}:\n${e.stderr ?? ''}${e.stdout ?? ''}`,
    )
  }
}

/** A copy of what a clone of the repository holds: the tracked (and new, unignored) files. */
async function cleanCopy(to: string): Promise<void> {
  const { stdout } = await sh(ROOT, 'git', [
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
  ])
  for (const file of new Set(stdout.split('\0').filter((f) => f !== ''))) {
    await cp(join(ROOT, file), join(to, file), { recursive: true }).catch((error: unknown) => {
      // A tracked file deleted in the working tree is not in a clone of this tree either.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    })
  }
  // The dev dependencies `npm install` would give the clone (prepare needs TypeScript).
  await symlink(join(ROOT, 'node_modules'), join(to, 'node_modules'), 'dir')
}

/**
 * `packages` and every dependency they pull in, as npm would hoist them into a project's
 * node_modules (TypeScript names types by where it finds them: `@types/express` needs
 * `@types/express-serve-static-core` beside it).
 */
async function withDependencies(packages: readonly string[]): Promise<string[]> {
  const found = new Set<string>()
  const visit = async (name: string): Promise<void> => {
    if (found.has(name)) return
    let manifest: { dependencies?: Record<string, string> }
    try {
      manifest = JSON.parse(
        await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
      )
    } catch {
      return // an optional dependency this machine did not install
    }
    found.add(name)
    for (const dependency of Object.keys(manifest.dependencies ?? {})) await visit(dependency)
  }
  for (const name of packages) await visit(name)
  for (const name of packages)
    assert.ok(found.has(name), `${name} is not installed in the repository`)
  return [...found]
}

/** `npm init -y` in a new directory, then the tarball, then the frameworks linked in. */
async function newProject(name: string, type: 'commonjs' | 'module'): Promise<string> {
  const dir = join(scratch, name)
  await mkdir(dir)
  await sh(dir, 'npm', ['init', '-y'])
  const initial = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
    type?: string
  }
  assert.ok(
    initial.type === undefined || initial.type === 'commonjs',
    `npm init -y: ${initial.type}`,
  )
  if (type === 'module') await sh(dir, 'npm', ['pkg', 'set', 'type=module'])
  await sh(dir, 'npm', ['install', tarball])
  for (const pkg of await withDependencies(LINKED)) {
    await mkdir(dirname(join(dir, 'node_modules', pkg)), { recursive: true })
    await symlink(join(ROOT, 'node_modules', pkg), join(dir, 'node_modules', pkg), 'dir')
  }
  await mkdir(join(dir, 'node_modules', '.bin'), { recursive: true })
  for (const bin of BINS) {
    await symlink(join(ROOT, 'node_modules', '.bin', bin), join(dir, 'node_modules', '.bin', bin))
  }
  return dir
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  assert.ok(address !== null && typeof address === 'object')
  return address.port
}

/** Ends a child's process group (npx, then node, then tsx's node). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), name)
    } catch {
      // Already gone.
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), 3_000)
  await gone
  clearTimeout(timer)
}

/**
 * The README's quick start, as printed: `SESSION_SECRET=$(npx login-manager secret) npx tsx
 * app.ts`, with PORT set; then the login flow over HTTP.
 */
async function quickStart(dir: string, app = 'app.ts'): Promise<void> {
  const secret = (await sh(dir, 'npx', ['login-manager', 'secret'])).stdout.trim()
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
  const port = await freePort()
  const child = spawn('npx', ['tsx', app], {
    cwd: dir,
    env: env({ SESSION_SECRET: secret, PORT: String(port) }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  let exited = false
  child.once('exit', () => {
    exited = true
    children.delete(child)
  })
  try {
    const client = new TestClient(`http://127.0.0.1:${port}`)
    for (let attempt = 0; ; attempt++) {
      assert.ok(!exited, `the quick start exited:\n${output}`)
      assert.ok(attempt < 200, `the quick start did not answer on port ${port}:\n${output}`)
      if (/http:\/\/\S+:\d+/.test(output)) {
        const ready = await client.get('/login').catch(() => undefined)
        if (ready !== undefined) break
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.match(output, new RegExp(`:${port}/`), 'it prints the URL of the port it listens on')

    const anonymous = await client.get('/protected')
    assert.equal(anonymous.status, 302)
    assert.equal(anonymous.location, '/login?next=%2Fprotected')
    const form = await client.get('/login?next=%2Fprotected')
    assert.match(form.body, /Please log in to access this page\./)
    const wrong = await client.post('/login', { email: 'leafstorm', password: 'wrong' })
    assert.equal(wrong.status, 401)
    const login = await client.post('/login?next=%2Fprotected', {
      email: 'leafstorm',
      password: 'secret',
      remember: 'on',
    })
    assert.equal(login.status, 303)
    assert.equal(login.location, '/protected')
    const page = await client.get('/protected')
    assert.equal(page.status, 200)
    assert.match(page.body, /Logged in as: leafstorm/)
    const logout = await client.post('/logout')
    assert.match(logout.body, /Logged out/)
    assert.equal((await client.get('/protected')).status, 302)
  } finally {
    await stop(child)
  }
}

/**
 * `tsc --noEmit` on `files` with the tsconfig.json `npx tsc --init` writes, as the getting-started
 * guide says to adjust it: Node's types, and in a CommonJS project no `verbatimModuleSyntax`
 * (which refuses `import` statements in CommonJS files).
 */
async function typecheck(dir: string, files: string[], type: 'commonjs' | 'module'): Promise<void> {
  await sh(dir, 'npx', ['tsc', '--init'])
  const path = join(dir, 'tsconfig.json')
  let config = await readFile(path, 'utf8')
  const edit = (from: RegExp, to: string) => {
    assert.match(config, from, `tsc --init wrote ${from}`)
    config = config.replace(from, to)
  }
  edit(/"types": \[\]/, '"types": ["node"]')
  if (type === 'commonjs') edit(/"verbatimModuleSyntax": true/, '"verbatimModuleSyntax": false')
  edit(/^\{/, `{\n  "files": ${JSON.stringify(files)},`)
  await writeFile(path, config)
  try {
    await run('npx', ['tsc', '--noEmit', '-p', '.'], { cwd: dir, env: env(), maxBuffer: 16 << 20 })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    assert.fail(`tsc --noEmit in ${dir}:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
}

after(async () => {
  await Promise.all([...children].map(stop))
  if (scratch !== '') await rm(scratch, { recursive: true, force: true })
})

describe('the packed package in fresh projects', { timeout: 240_000 }, () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'login-manager-package-'))
    const clone = join(scratch, 'clone')
    await cleanCopy(clone)
    const packs = join(scratch, 'packs')
    await mkdir(packs)
    const { stdout } = await sh(clone, 'npm', ['pack', '--json', '--pack-destination', packs])
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[]
    assert.ok(packed !== undefined, stdout)
    tarball = join(packs, packed.filename)
    packedFiles = packed.files.map((f) => f.path)
  })

  it('npm pack of a clean clone ships the built code and its types', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>
      bin: Record<string, string>
    }
    const shipped = new Set(packedFiles)
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue
      for (const file of [target.default, target.types]) {
        assert.ok(
          shipped.has(file.replace(/^\.\//, '')),
          `${subpath}: ${file} is not in the tarball`,
        )
      }
    }
    for (const bin of Object.values(pkg.bin)) assert.ok(shipped.has(bin.replace(/^\.\//, '')))
    assert.deepEqual(
      packedFiles.filter((f) => /^(src|test|examples|bench|docs\/images)\//.test(f)),
      [],
      "sources, tests, examples, benchmarks and the README's screenshots stay out of the package",
    )
  })

  it("the README's quick start commands are the ones these projects run", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Options'))
    const commands = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) =>
      (m[1] as string).split('\n').filter((line) => line !== ''),
    )
    assert.deepEqual(commands, [
      'npm init -y',
      'npm install login-manager express',
      'npm install --save-dev tsx typescript @types/express @types/node',
      'SESSION_SECRET=$(npx login-manager secret) npx tsx app.ts',
    ])
    for (const pkg of commands.slice(1, 3).flatMap((c) => c.split(' ').slice(2))) {
      if (pkg !== 'login-manager' && pkg !== '--save-dev') assert.ok(LINKED.includes(pkg), pkg)
    }
    assert.match(section, /<!-- snippet: examples\/snippets\/quickstart\.ts -->/)
  })

  describe('a CommonJS project (npm init -y)', () => {
    let dir = ''
    before(async () => {
      dir = await newProject('cjs-app', 'commonjs')
      await cp(QUICKSTART, join(dir, 'app.ts'))
      await cp(join(CONSUMER, 'adapters.ts'), join(dir, 'adapters.ts'))
      await cp(join(CONSUMER, 'require-check.cjs'), join(dir, 'check.js'))
    })

    it('runs the README quick start with npx tsx', async () => {
      await quickStart(dir)
    })

    for (const name of FRAMEWORK_APPS) {
      it(`runs the ${name.replace('-app', '')} page's complete app with npx tsx`, async () => {
        await cp(join(ROOT, `examples/snippets/${name}.ts`), join(dir, `${name}.ts`))
        await quickStart(dir, `${name}.ts`)
      })
    }

    it("runs the Fetch page's Node server (server.ts with fetch-app.ts) with npx tsx", async () => {
      await cp(join(ROOT, 'examples/snippets/fetch-app.ts'), join(dir, 'fetch-app.ts'))
      await cp(join(ROOT, 'examples/snippets/fetch-node.ts'), join(dir, 'server.ts'))
      await quickStart(dir, 'server.ts')
    })

    it('require() loads every entry point, and it is the same module import() loads', async () => {
      const { stdout } = await sh(dir, process.execPath, ['check.js'])
      assert.equal(stdout.trim(), 'ok')
    })

    it('tsc --noEmit (tsc --init settings) accepts a strict TypeScript file that uses every adapter', async () => {
      await typecheck(dir, ['adapters.ts'], 'commonjs')
    })
  })

  describe('an ESM project ("type": "module")', () => {
    let dir = ''
    before(async () => {
      dir = await newProject('esm-app', 'module')
      await cp(QUICKSTART, join(dir, 'app.ts'))
      await cp(join(CONSUMER, 'adapters.ts'), join(dir, 'adapters.ts'))
      await cp(join(CONSUMER, 'import-check.mjs'), join(dir, 'check.js'))
    })

    it('runs the README quick start with npx tsx', async () => {
      await quickStart(dir)
    })

    it('import loads every entry point, and it is the same module require() loads', async () => {
      const { stdout } = await sh(dir, process.execPath, ['check.js'])
      assert.equal(stdout.trim(), 'ok')
    })

    it('tsc --noEmit (tsc --init settings) accepts the quick start and a file that uses every adapter', async () => {
      await typecheck(dir, ['adapters.ts', 'app.ts'], 'module')
    })
  })
})
