// The Fetch adapter's end-to-end scenarios (fetch-scenarios.ts) on Node, Bun and Deno: each
// runtime runs the script as a child process against the built library (dist/, which `npm test`
// builds first) and must exit 0 with "<N> passed, 0 failed". A missing Bun or Deno binary skips
// that runtime locally and fails on CI (CI=true).
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SCRIPT = 'test/runtimes/fetch-scenarios.ts'
const TIMEOUT_MS = 60_000
/** The scenarios the script runs; fewer "ok" lines means some were silently skipped. */
const MIN_SCENARIOS = 19
const SUMMARY = /^(\d+) passed, (\d+) failed$/gm
const ON_CI = process.env.CI === 'true'

interface Runtime {
  readonly name: string
  /** The command and its arguments, or why the runtime cannot run here. */
  readonly command: { file: string; args: string[] } | { missing: string }
}

/** A runtime binary from node_modules/.bin (the `bun` and `deno` npm packages), else from PATH. */
function findBinary(name: string): { file: string } | { missing: string } {
  const local = join(
    ROOT,
    'node_modules',
    '.bin',
    process.platform === 'win32' ? `${name}.exe` : name,
  )
  const candidates = existsSync(local) ? [local, name] : [name]
  const problems: string[] = []
  for (const file of candidates) {
    const probe = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 })
    if (probe.status === 0) return { file }
    problems.push(
      `${file}: ${probe.error?.message ?? `exit ${probe.status} ${probe.stderr.trim().slice(0, 200)}`}`,
    )
  }
  return { missing: `${name} is not available (${problems.join('; ')})` }
}

function runtime(name: string, binary: { file: string } | { missing: string }, args: string[]) {
  return { name, command: 'file' in binary ? { file: binary.file, args } : binary }
}

const RUNTIMES: Runtime[] = [
  { name: 'node', command: { file: process.execPath, args: ['--import', 'tsx', SCRIPT] } },
  runtime('bun', findBinary('bun'), ['run', SCRIPT]),
  runtime('deno', findBinary('deno'), [
    'run',
    // Never touch the network or the repository: no lockfile, nothing to download, no prompts.
    '--no-lock',
    '--cached-only',
    '--no-prompt',
    '--node-modules-dir=manual',
    '--allow-net=127.0.0.1',
    `--allow-read=${ROOT}`,
    SCRIPT,
  ]),
]

interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: string
  readonly ms: number
  readonly timedOut: boolean
}

function run(file: string, args: string[]): Promise<Finished> {
  const env: NodeJS.ProcessEnv = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }
  delete env.NODE_TEST_CONTEXT
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, TIMEOUT_MS)
    child.once('error', (error) => {
      output += `\nspawn failed: ${error.message}`
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output, ms: performance.now() - started, timedOut })
    })
  })
}

describe('the Fetch adapter scenarios on every runtime', () => {
  test('dist/ is built', () => {
    assert.ok(
      existsSync(join(ROOT, 'dist', 'adapters', 'fetch.js')),
      'dist/ is missing: run `npm run build` first (npm test does)',
    )
  })

  for (const { name, command } of RUNTIMES) {
    test(name, { timeout: TIMEOUT_MS + 10_000 }, async (t) => {
      if ('missing' in command) {
        assert.ok(!ON_CI, `${command.missing}; CI=true requires every runtime`)
        console.log(`${name} skipped: ${command.missing}`)
        t.skip(command.missing)
        return
      }
      const result = await run(command.file, command.args)
      const seconds = (result.ms / 1000).toFixed(2)
      const report = `${name} (${seconds} s, exit ${result.code ?? result.signal}):\n${result.output}`
      assert.ok(!result.timedOut, `timed out after ${TIMEOUT_MS / 1000} s — ${report}`)
      const summaries = [...result.output.matchAll(SUMMARY)]
      assert.equal(summaries.length, 1, `expected exactly one summary line — ${report}`)
      const [, passed = '0', failed = '0'] = summaries[0] ?? []
      assert.equal(Number(failed), 0, `scenarios failed — ${report}`)
      assert.ok(Number(passed) >= MIN_SCENARIOS, `only ${passed} scenarios ran — ${report}`)
      assert.doesNotMatch(result.output, /^not ok /m, report)
      assert.equal(result.code, 0, `non-zero exit — ${report}`)
      t.diagnostic(`${name}: ${passed} passed in ${seconds} s`)
    })
  }
})
