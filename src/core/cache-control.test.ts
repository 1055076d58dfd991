import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ResponseEffects } from './auth.ts'
import { cacheControlFor } from './cache-control.ts'

const READ: ResponseEffects = { cookies: [], vary: true, noStore: false }
const COOKIE: ResponseEffects = { cookies: ['a=1'], vary: true, noStore: true }
const NOTHING: ResponseEffects = { cookies: [], vary: false, noStore: false }

describe('cacheControlFor', () => {
  const cases: Array<[string, ResponseEffects, unknown, string | undefined]> = [
    ['a read, no header', READ, undefined, 'private'],
    ['a read, Koa 2 empty header', READ, '', 'private'],
    ['a read, null', READ, null, 'private'],
    ['a read, empty list', READ, [], 'private'],
    ["a read, the app's own header", READ, 'public, max-age=60', undefined],
    ["a read, the app's no-cache", READ, 'no-cache', undefined],
    ["a read, the app's header as a list", READ, ['no-cache'], undefined],
    ['a cookie, no header', COOKIE, undefined, 'private, no-store'],
    ["a cookie, the app's public header", COOKIE, 'public, max-age=3600', 'private, no-store'],
    ['nothing touched', NOTHING, undefined, undefined],
  ]
  for (const [label, effects, current, expected] of cases) {
    it(label, () => assert.equal(cacheControlFor(effects, current), expected))
  }
})
