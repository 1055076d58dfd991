/**
 * Remember-me hardening (issue 10) over HTTP on every adapter layout, with `MemoryStore` on the
 * test's clock: refreshEachRequest with bad cookies, inactive users (every remember format),
 * stolen tokens, rotations that must not resurrect a session, two tabs with one cookie,
 * rotations whose response fails, "log out everywhere" and `revokeSession` racing a restore, and
 * corrupt token records. The scenarios live in `../support/remember-races.ts`; the same ones run
 * on Redis in `../stores/remember-races.test.ts`.
 *
 * @module
 */
import { describe } from 'node:test'
import { MemoryStore } from 'login-manager'
import {
  type RaceStore,
  rememberCookieScenarios,
  rememberRaceScenarios,
} from '../support/remember-races.ts'
import { adapters } from './adapters/index.ts'

function memory(): RaceStore {
  let time = Date.now()
  const now = () => time
  return {
    store: new MemoryStore({ now }),
    now,
    advance(seconds) {
      time += seconds * 1000
    },
    close: async () => {},
  }
}

for (const adapter of adapters) {
  describe(`${adapter.name}: remember-me hardening, MemoryStore`, () => {
    rememberRaceScenarios(adapter, memory)
  })
  describe(`${adapter.name}: remember-me hardening, remember cookies`, () => {
    rememberCookieScenarios(adapter, memory)
  })
}
