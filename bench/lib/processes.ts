import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import os from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: servers are started from here. */
export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))))

const READY_TIMEOUT_MS = 30_000

export interface Pinning {
  /** Core of the load generator (this process), or null when not pinned. */
  readonly client: number | null
  /** Core of the servers, or null when not pinned. */
  readonly server: number | null
}

/**
 * Pins this process (autocannon) to core 0 and reserves core 1 for the servers, when on Linux with
 * `taskset` and at least two cores. `BENCH_PIN=0` turns pinning off.
 */
export function choosePinning(): Pinning {
  const off: Pinning = { client: null, server: null }
  if (process.env.BENCH_PIN === '0') return off
  if (process.platform !== 'linux' || os.availableParallelism() < 2) return off
  if (spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status !== 0) return off
  // -a: every thread of this process (libuv pool, V8 helpers), not just the main one.
  const self = spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' })
  return { client: self.status === 0 ? 0 : null, server: 1 }
}

export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  /** Everything the server wrote to stderr so far. */
  stderr: string
}

const children = new Set<ChildProcess>()

/**
 * Starts `node --import tsx <file>` (under `taskset -c <pin>` when pinned) and resolves once it
 * prints `ready <port>`. Rejects, with its stderr, when it exits or stays silent first. The server
 * uses the BUILT library (dist/, what users run; `npm run bench` builds first);
 * `BENCH_SOURCE=1` runs it from src/ through tsx instead.
 */
export function startServer(
  file: string,
  env: Record<string, string>,
  pin: number | null,
  nodeFlags: readonly string[] = [],
  /** A command that runs node (e.g. valgrind and its options), and how long to wait for it. */
  wrapper: { readonly command: readonly string[]; readonly readyTimeoutMs: number } | null = null,
): Promise<ServerProcess> {
  const source = process.env.BENCH_SOURCE === '1' ? ['--conditions=login-manager-source'] : []
  const nodeArgs = [
    ...(wrapper?.command ?? []),
    process.execPath,
    ...nodeFlags,
    ...source,
    '--import',
    'tsx',
    file,
  ]
  const [command, args] =
    pin === null ? [nodeArgs[0]!, nodeArgs.slice(1)] : ['taskset', ['-c', String(pin), ...nodeArgs]]
  const readyTimeoutMs = wrapper?.readyTimeoutMs ?? READY_TIMEOUT_MS
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', PORT: '0', ...env },
    // stdin stays open: the server exits when it closes, even if this process dies abruptly.
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))

  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    let settled = false
    const fail = (why: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      stopServer(child)
      reject(new Error(`${file}: ${why}${stderr === '' ? '' : `\n--- stderr ---\n${stderr}`}`))
    }
    const timer = setTimeout(
      () => fail(`no "ready" line within ${readyTimeoutMs} ms`),
      readyTimeoutMs,
    )
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('error', (error) => fail(`could not start: ${error.message}`))
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`))
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', function onData(chunk: string) {
      stdout += chunk
      const match = /^ready (\d+)$/m.exec(stdout)
      if (match === null || settled) return
      settled = true
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stdout?.resume()
      const server: ServerProcess = { child, url: `http://127.0.0.1:${match[1]}`, stderr }
      child.stderr?.on('data', (more: string) => {
        server.stderr += more
      })
      resolve(server)
    })
  })
}

/**
 * Contender servers started on demand, one process per key, until {@link ServerPool.stopAll}.
 * Each sequential measurement runs with its server ALONE: on this kind of machine a Node server
 * started while other (even idle, even stopped) server processes are alive can run 15-25 %
 * slower than the first one started, whatever it serves, which would bias every ratio. So the
 * benchmarks start servers when needed and stop them all after each measurement.
 */
export interface ServerPool {
  /** The running server of `key`, started now if it is not running. */
  ensure(key: string): Promise<ServerProcess>
  /** The URL of `key`'s running server. */
  urlOf(key: string): string
  /** Stops every server of the pool and waits until they have exited. */
  stopAll(): Promise<void>
}

/**
 * A {@link ServerPool}: `describe(key)` gives the server file (and extra environment) of a key;
 * every server gets `BENCH_SECRET=secret` and is pinned to `pin`.
 */
export function serverPool(
  describe: (key: string) => { readonly file: string; readonly env?: Record<string, string> },
  secret: string,
  pin: number | null,
): ServerPool {
  const servers = new Map<string, ServerProcess>()
  return {
    async ensure(key) {
      const running = servers.get(key)
      if (running !== undefined) return running
      const { file, env } = describe(key)
      const started = await startServer(file, { BENCH_SECRET: secret, ...env }, pin)
      servers.set(key, started)
      return started
    },
    urlOf(key) {
      const server = servers.get(key)
      if (server === undefined) throw new Error(`${key}: its server is not running`)
      return server.url
    },
    async stopAll() {
      await Promise.all([...servers.values()].map((s) => stopServerAndWait(s.child)))
      servers.clear()
    },
  }
}

/** Asks a server to exit (SIGTERM, and its stdin closed). */
export function stopServer(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  child.stdin?.destroy()
}

/** Stops a server and waits until it has exited (e.g. so that a CPU profile is written). */
export function stopServerAndWait(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve()
    }, timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    stopServer(child)
  })
}

/** Stops every server this process started. */
export function stopAllServers(): void {
  for (const child of children) stopServer(child)
}

/** Stops every server when this process exits, including on Ctrl-C and SIGTERM. */
export function stopServersOnExit(): void {
  process.once('exit', stopAllServers)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping servers`)
      stopAllServers()
      process.exit(130)
    })
  }
}
