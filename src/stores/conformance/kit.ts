import assert from 'node:assert/strict'
import type * as NodeTest from 'node:test'
import type { SessionStore, StoreWrite } from '../../session/store.ts'

/**
 * What every group of conformance tests shares: the `node:test` functions (loaded by
 * `runStoreConformance` on call, so the groups never import `node:test` themselves), the store
 * under test and the helpers that write under fresh random keys.
 */
export interface ConformanceKit {
  readonly describe: typeof NodeTest.describe
  readonly it: typeof NodeTest.it
  readonly before: typeof NodeTest.before
  /**
   * The store under test. It is made in the suite's `before` hook, so read it inside tests and
   * hooks only, never while the tests are being registered.
   */
  readonly store: SessionStore
  /** A fresh hash tag: one user, so to speak, per test. */
  readonly tag: () => string
  readonly sessionKey: (tag: string) => string
  readonly indexKey: (tag: string) => string
  /** Waits `ms`, on the suite's fake clock when it has one. */
  readonly wait: (ms: number) => Promise<void>
  readonly create: (
    key: string,
    set: Record<string, string>,
    more?: Partial<StoreWrite>,
  ) => Promise<boolean>
  readonly update: (
    key: string,
    set: Record<string, string>,
    more?: Partial<StoreWrite>,
  ) => Promise<boolean>
  /** The members of an index, sorted: stores list them in no particular order. */
  readonly sorted: (index: string) => Promise<string[]>
}

/** Defines an own, enumerable field (even `__proto__`, which assignment would not create). */
export function define(record: Record<string, string>, field: string, value: string): void {
  Object.defineProperty(record, field, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

export function assertRecord(
  actual: Readonly<Record<string, string>> | null,
  expected: Readonly<Record<string, string>>,
  message?: string,
): void {
  assert.notEqual(actual, null, message ?? 'the record exists')
  const entries = (record: Readonly<Record<string, string>>) =>
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  assert.deepEqual(entries(actual!), entries(expected), message)
}
