import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pooledRandomBytes } from './random.ts'

describe('pooledRandomBytes', () => {
  it('hands out each byte once, and bytes given out never change when the block is replaced', () => {
    const first = pooledRandomBytes(16)
    const copy = Buffer.from(first)
    const seen = new Set<string>([copy.toString('hex')])
    // Far more than one block: the block is replaced many times meanwhile.
    for (let i = 0; i < 5_000; i++) {
      const bytes = pooledRandomBytes(16)
      assert.equal(bytes.length, 16)
      const hex = bytes.toString('hex')
      assert.ok(!seen.has(hex), 'no 16 bytes are handed out twice')
      seen.add(hex)
    }
    assert.deepEqual(first, copy, 'a view handed out earlier is never refilled')
  })

  it('serves sizes past the pooled range straight from the CSPRNG', () => {
    const big = pooledRandomBytes(1024)
    assert.equal(big.length, 1024)
    assert.notDeepEqual(big, pooledRandomBytes(1024))
  })
})
