import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecentMap } from './recent-map.ts'

describe('RecentMap', () => {
  it('holds at most its limit, dropping the least recently used first', () => {
    const map = new RecentMap<number, string>(10)
    for (let i = 0; i < 1000; i++) {
      map.set(i, `v${i}`)
      assert.ok(map.size <= 10, `size ${map.size} after ${i + 1} insertions`)
    }
    // The newest entries are still there; the oldest are long gone.
    assert.equal(map.get(999), 'v999')
    assert.equal(map.get(995), 'v995')
    assert.equal(map.get(0), undefined)
    assert.equal(map.get(989), undefined)
  })

  it('keeps an entry in use through every turn of generations', () => {
    const map = new RecentMap<string, number>(4)
    map.set('hot', 1)
    for (let i = 0; i < 100; i++) {
      map.set(`cold${i}`, i)
      assert.equal(map.get('hot'), 1, `after ${i + 1} other insertions`)
    }
  })

  it('replaces and deletes in either generation', () => {
    const map = new RecentMap<string, number>(4)
    map.set('a', 1)
    map.set('b', 2)
    map.set('c', 3) // 'a' and 'b' are now the previous generation
    map.set('a', 10)
    assert.equal(map.get('a'), 10)
    map.delete('b')
    assert.equal(map.get('b'), undefined)
    map.delete('a')
    assert.equal(map.get('a'), undefined)
    assert.equal(map.get('c'), 3)
  })
})
