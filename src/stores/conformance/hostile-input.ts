import assert from 'node:assert/strict'
import { randomUuid } from '../../crypto/random.ts'
import { assertRecord, type ConformanceKit, define } from './kit.ts'

/** Hostile and unusual input: missing keys in bulk, opaque field names, values and keys. */
export function hostileInputTests(kit: ConformanceKit): void {
  const { describe, it, create, update, sorted, tag, sessionKey, indexKey } = kit

  describe('hostile and unusual input', () => {
    it('1,000 reads, touches and updates of random missing keys create nothing', async () => {
      const t = tag()
      const keys = Array.from({ length: 1000 }, () => sessionKey(t))
      const before = await Promise.all(keys.map((key) => kit.store.get(key)))
      assert.equal(before.filter((record) => record !== null).length, 0)
      const touched = await Promise.all(keys.slice(0, 200).map((k) => kit.store.touch(k, 60)))
      const updated = await Promise.all(keys.slice(200, 400).map((k) => update(k, { u: '1' })))
      assert.equal(touched.filter(Boolean).length, 0)
      assert.equal(updated.filter(Boolean).length, 0)
      await Promise.all(keys.slice(400, 600).map((key) => kit.store.destroy(key, indexKey(t))))
      const after = await Promise.all(keys.map((key) => kit.store.get(key)))
      assert.equal(after.filter((record) => record !== null).length, 0)
      assert.deepEqual(await kit.store.members(indexKey(t)), [])
    })

    it('unicode, quotes, control characters, empty and 10 KB values round-trip', async () => {
      const key = sessionKey(tag())
      const fields: Record<string, string> = {
        unicode: 'héllo wörld ✓ 日本語 🍪 👩‍👩‍👧',
        quotes: `it's "quoted" \`back\` \\ backslash`,
        control: 'line\nbreak\r\ttab\u0000nul\u001b[31m',
        lua: "']] .. redis.call('FLUSHALL') .. [['",
        json: '{"a":[1,2,{"b":null}],"c":"\\u0000"}',
        empty: '',
        big: `${'x'.repeat(10 * 1024 - 3)}end`,
        'field with spaces, ünïcode & "quotes"': 'v',
        constructor: 'c',
        toString: 't',
      }
      // Field names are opaque too, `__proto__` included (as an own property).
      define(fields, '__proto__', 'p')
      assert.equal(await create(key, fields), true)
      assertRecord(await kit.store.get(key), fields)
      assert.equal(await update(key, { unicode: '∀x ∈ ℝ' }, { remove: ['__proto__'] }), true)
      const expected = { ...fields, unicode: '∀x ∈ ℝ' }
      Reflect.deleteProperty(expected, '__proto__')
      assertRecord(await kit.store.get(key), expected)
    })

    it('keys are opaque: braces, colons, glob characters and spaces round-trip and match nothing else', async () => {
      const t = tag()
      const weird = `lm:{${t}}:s:{}:*?[] weird key ${randomUuid()}`
      const star = `lm:{${t}}:s:*`
      const index = `lm:{${t}}:idx:[*] ?`
      assert.equal(await create(weird, { u: '1' }, { index }), true)
      assert.equal(await create(star, { u: '2' }, { index }), true)
      assertRecord(await kit.store.get(weird), { u: '1' })
      assertRecord(await kit.store.get(star), { u: '2' })
      assert.equal(await kit.store.get(`lm:{${t}}:s:?`), null)
      assert.equal(await kit.store.get(`lm:{${t}}:s:[*]`), null)
      assert.equal(await kit.store.get(`lm:{${t}}:s:`), null)
      assert.deepEqual(await sorted(index), [weird, star].sort())
      assert.deepEqual(await kit.store.members(`lm:{${t}}:idx:*`), [])
      assert.equal(await kit.store.destroyIndex(`lm:{${t}}:idx:*`), 0)
      assert.equal(await kit.store.destroyIndex(index, [weird]), 1)
      assertRecord(await kit.store.get(weird), { u: '1' })
      await kit.store.destroy(weird, index)
      assert.equal(await kit.store.get(weird), null)
    })
  })
}
