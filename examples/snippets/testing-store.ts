// test/timed-store.test.ts: a custom SessionStore, checked with login-manager's conformance kit.
// Run: node --import tsx --test test/timed-store.test.ts
import { pathToFileURL } from 'node:url'
import { MemoryStore, type SessionStore, type StoreWrite } from 'login-manager'
import { runStoreConformance } from 'login-manager/testing'

/** Wraps any store and reports how long each operation took (for your metrics). */
export class TimedStore implements SessionStore {
  constructor(
    readonly inner: SessionStore,
    readonly report: (operation: string, ms: number) => void,
  ) {}

  async #timed<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      return await work()
    } finally {
      this.report(operation, performance.now() - started)
    }
  }

  get(key: string) {
    return this.#timed('get', () => this.inner.get(key))
  }
  write(key: string, write: StoreWrite) {
    return this.#timed('write', () => this.inner.write(key, write))
  }
  touch(key: string, ttl: number, fields?: Readonly<Record<string, string>>) {
    return this.#timed('touch', () => this.inner.touch(key, ttl, fields))
  }
  destroy(key: string, index?: string) {
    return this.#timed('destroy', () => this.inner.destroy(key, index))
  }
  members(index: string) {
    return this.#timed('members', () => this.inner.members(index))
  }
  destroyIndex(index: string, keep?: readonly string[]) {
    return this.#timed('destroyIndex', () => this.inner.destroyIndex(index, keep))
  }
}

/** Registers the conformance suite (describe/it from node:test) for TimedStore. */
export function checkTimedStore() {
  // A fake clock: the expiry tests move it instead of waiting.
  const clock = { now: Date.now() }
  runStoreConformance(
    'TimedStore',
    () => new TimedStore(new MemoryStore({ now: () => clock.now }), () => {}),
    {
      supportsTimeTravel: {
        advance(ms) {
          clock.now += ms
        },
      },
    },
  )
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  checkTimedStore()
}
