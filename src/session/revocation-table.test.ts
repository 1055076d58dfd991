import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RevocationTable } from './revocation-table.ts'
import { newRevocationId } from './revocations.ts'

const S0 = 1_900_000_000

describe('RevocationTable', () => {
  it('holds ids with their expiry, and gives them back exactly', () => {
    const table = new RevocationTable()
    const ids = Array.from({ length: 100 }, newRevocationId)
    // Extremes of the alphabet, to check the packing of every bit.
    ids.push('A'.repeat(22), `${'_'.repeat(21)}w`, `${'-'.repeat(21)}g`, `${'z'.repeat(21)}Q`)
    ids.forEach((id, i) => {
      assert.equal(table.put(id, S0 + i), true, id)
    })
    assert.equal(table.size, ids.length)
    ids.forEach((id, i) => {
      assert.equal(table.expiryOf(id), S0 + i, id)
    })
    assert.deepEqual(new Map(table.entries()), new Map(ids.map((id, i) => [id, S0 + i])))
    assert.equal(table.has(newRevocationId()), false)
  })

  it('keeps the later expiry of an id put twice', () => {
    const table = new RevocationTable()
    const id = newRevocationId()
    table.put(id, S0 + 100)
    table.put(id, S0 + 50)
    assert.equal(table.expiryOf(id), S0 + 100)
    table.put(id, S0 + 200)
    assert.equal(table.expiryOf(id), S0 + 200)
    assert.equal(table.size, 1)
  })

  it('refuses what is not a 128-bit id in base64url, and never matches it', () => {
    const table = new RevocationTable()
    const id = newRevocationId()
    table.put(id, S0)
    for (const bad of [
      '',
      'short',
      `${id}x`,
      `${id.slice(0, 21)}B`,
      `${id.slice(0, 5)}+${id.slice(6)}`,
      `é${id.slice(1)}`,
    ]) {
      assert.equal(table.put(bad, S0), false, bad)
      assert.equal(table.has(bad), false, bad)
    }
    // Same first five characters, another id: compared in full.
    const twin = `${id.slice(0, 5)}${id.slice(5, 6) === 'A' ? 'B' : 'A'}${id.slice(6)}`
    assert.equal(table.has(twin), false)
    assert.equal(table.size, 1)
  })

  it('grows to many ids and back, reusing deleted slots', () => {
    const table = new RevocationTable()
    const ids = Array.from({ length: 50_000 }, newRevocationId)
    ids.forEach((id, i) => {
      table.put(id, S0 + (i % 1000))
    })
    assert.equal(table.size, 50_000)
    const grown = table.bytes
    assert.ok(grown >= (50_000 * 20) / 0.75, `${grown} bytes`)
    assert.equal(table.prune(S0 + 499), 25_000)
    assert.equal(table.size, 25_000)
    ids.forEach((id, i) => {
      assert.equal(table.has(id), i % 1000 >= 500, id)
    })
    assert.equal(table.prune(S0 + 499), 0, 'nothing more to prune')
    assert.equal(table.prune(S0 + 2000), 25_000)
    assert.equal(table.size, 0)
    assert.ok(table.bytes < grown, 'a table emptied by pruning shrinks')
    for (const id of ids.slice(0, 10)) table.put(id, S0 + 5)
    assert.equal(table.size, 10)
  })

  it('drops the entries expiring soonest, to the second', () => {
    const table = new RevocationTable()
    const ids = Array.from({ length: 3000 }, newRevocationId)
    ids.forEach((id, i) => {
      // Spread over ten days, three ids per second near the start.
      table.put(id, S0 + (i < 300 ? Math.floor(i / 3) : 100 + i * 288))
    })
    assert.equal(table.dropSoonest(10), 12, 'the 10th expires in a second shared by three ids')
    assert.equal(table.size, 2988)
    ids.forEach((id, i) => {
      assert.equal(table.has(id), i >= 12, String(i))
    })
    const dropped = table.dropSoonest(500)
    assert.ok(dropped >= 500 && dropped <= 502, String(dropped))
    const rest = table.size
    assert.equal(rest, 2988 - dropped)
    assert.equal(table.dropSoonest(1e9), rest)
    assert.equal(table.size, 0)
  })
})
