import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  asciiJson,
  dataField,
  fieldBytes,
  keyOfDataField,
  MAX_JSON_DEPTH,
  withinDepth,
} from './record-json.ts'

const isAscii = (text: string) => /^[\x20-\x7e]*$/.test(text)

describe('asciiJson', () => {
  it('escapes every non-ASCII unit, and parses back to the same value', () => {
    const values = [
      'plain',
      'Müller 佐藤 💥',
      '\ud800 lone \udfff',
      '\u2028\u2029',
      { ключ: ['é', { deep: '𠮷' }], n: 1.5, t: true, z: null },
    ]
    for (const value of values) {
      const json = asciiJson(value)
      assert.ok(isAscii(json), json)
      assert.deepEqual(JSON.parse(json), value)
    }
    assert.equal(asciiJson('é'), '"\\u00e9"')
    assert.equal(asciiJson({ a: [1, 'x'] }), '{"a":[1,"x"]}', 'ASCII JSON is unchanged')
  })
})

describe('dataField / keyOfDataField', () => {
  it('a printable ASCII key is its own field name, as in the earlier format', () => {
    assert.equal(dataField('cart'), 'd:cart')
    assert.equal(dataField('user prefs: v2'), 'd:user prefs: v2')
    assert.equal(keyOfDataField('d:cart', false), 'cart')
  })

  it('any other key is escaped to ASCII and read back exactly', () => {
    for (const key of [
      'größe',
      '佐藤',
      '💥',
      'a"b',
      'a\\b',
      'tab\there',
      '\u0000',
      '\ud800',
      '\\u00e9',
    ]) {
      const field = dataField(key)
      assert.ok(field.startsWith('d:'))
      assert.ok(isAscii(field), field)
      assert.equal(keyOfDataField(field, false), key)
      assert.notEqual(field, `d:${key}`)
    }
  })

  it('an earlier-format record keeps its names as they are', () => {
    assert.equal(dataField('größe', true), 'd:größe')
    assert.equal(keyOfDataField('d:a\\b', true), 'a\\b')
  })

  it('broken escapes are reported, not thrown', () => {
    assert.equal(keyOfDataField('d:\\x', false), undefined)
    assert.equal(keyOfDataField('d:a\\"b"', false), undefined)
  })
})

describe('fieldBytes', () => {
  it('current format: ASCII only, measured as is', () => {
    assert.equal(fieldBytes('d:x', '"\\u00e9"', false), 3 + 8)
    assert.equal(fieldBytes('d:x', '"é"', false), -1)
    assert.equal(fieldBytes('d:é', '1', false), -1)
    assert.equal(
      fieldBytes('d:x', '"\ufffd"', false),
      -1,
      'what a lenient decoder left of bad UTF-8',
    )
    assert.equal(fieldBytes('d:x', '"\ud800"', false), -1, 'a lone surrogate')
  })

  it('earlier format: UTF-8 accepted, measured as it will be written back; U+FFFD and lone surrogates refused', () => {
    assert.equal(fieldBytes('d:x', '"é"', true), 3 + 2 + 6)
    assert.equal(fieldBytes('d:x', '"💥"', true), 3 + 2 + 12)
    assert.equal(fieldBytes('d:é', '1', true), 2 + 6 + 1)
    assert.equal(fieldBytes('d:x', '"\ufffd"', true), -1)
    assert.equal(fieldBytes('d:x', '"\udc00"', true), -1)
    assert.equal(fieldBytes('d:\ud83d', '1', true), -1)
  })
})

describe('withinDepth', () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

  it(`accepts up to ${MAX_JSON_DEPTH} levels, refuses one more`, () => {
    assert.equal(withinDepth(nested(MAX_JSON_DEPTH)), true)
    assert.equal(withinDepth(nested(MAX_JSON_DEPTH + 1)), false)
    assert.equal(
      withinDepth(`{"a":${'{"b":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`),
      false,
    )
    assert.equal(withinDepth(nested(3), 2), false)
    assert.equal(withinDepth(nested(2), 2), true)
  })

  it('brackets inside strings do not count, escapes included', () => {
    const text = JSON.stringify(['['.repeat(1000), '\\"[[[[', '{"'.repeat(500)])
    assert.equal(withinDepth(text), true)
    assert.equal(withinDepth(JSON.stringify(['"[[[[', '\\[[[']), 1), true)
    assert.equal(withinDepth(JSON.stringify(['"[[[[', ['\\']]), 1), false)
  })

  it('siblings do not add up', () => {
    assert.equal(withinDepth(`[${Array(10_000).fill('[[1]]').join(',')}]`), true)
  })

  it('scans 100k levels without recursion', () => {
    assert.equal(withinDepth(nested(100_000)), false)
    assert.equal(withinDepth(`[${'1,'.repeat(1_000_000)}1]`), true)
  })
})
