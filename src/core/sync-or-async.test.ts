import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runSyncOrAsync } from './sync-or-async.ts'

describe('runSyncOrAsync', () => {
  it('stays synchronous when nothing yielded is a promise', () => {
    function* gen(): Generator<unknown, number, unknown> {
      const a = (yield 1) as number
      const b = (yield 'two') as string
      const c = (yield null) as null
      return a + b.length + (c === null ? 10 : 0)
    }
    const result = runSyncOrAsync(gen())
    assert.ok(!(result instanceof Promise), 'a non-promise value is returned')
    assert.equal(result, 14)
  })

  it('returns a plain value for a generator that yields nothing', () => {
    // biome-ignore lint/correctness/useYield: a generator that never yields is the case under test
    function* gen(): Generator<unknown, string, unknown> {
      return 'done'
    }
    assert.equal(runSyncOrAsync(gen()), 'done')
  })

  it('switches to a promise at the first yielded promise, and resumes with resolved values', async () => {
    const order: string[] = []
    function* gen(): Generator<unknown, number, unknown> {
      order.push('start')
      const a = (yield 1) as number
      order.push('sync step done')
      const b = (yield Promise.resolve(20)) as number
      order.push('after first await')
      const c = (yield 300) as number
      const d = (yield Promise.resolve(4000)) as number
      return a + b + c + d
    }
    const result = runSyncOrAsync(gen())
    assert.ok(result instanceof Promise)
    assert.deepEqual(
      order,
      ['start', 'sync step done'],
      'sync steps ran before runSyncOrAsync returned',
    )
    assert.equal(await result, 4321)
    assert.deepEqual(order, ['start', 'sync step done', 'after first await'])
  })

  it('propagates an error thrown synchronously inside the generator', () => {
    function* gen(): Generator<unknown, number, unknown> {
      yield 1
      throw new RangeError('sync boom')
    }
    assert.throws(() => runSyncOrAsync(gen()), { name: 'RangeError', message: 'sync boom' })
  })

  it('lets the generator catch a synchronous error of its own (e.g. a loader that throws)', () => {
    const loader = (): number => {
      throw new Error('loader failed')
    }
    function* gen(): Generator<unknown, string, unknown> {
      try {
        yield loader()
        return 'not reached'
      } catch (error) {
        return `caught ${(error as Error).message}`
      }
    }
    assert.equal(runSyncOrAsync(gen()), 'caught loader failed')
  })

  it('propagates a rejected promise as a rejection', async () => {
    function* gen(): Generator<unknown, number, unknown> {
      yield Promise.reject(new TypeError('async boom'))
      return 1
    }
    await assert.rejects(runSyncOrAsync(gen()) as Promise<number>, {
      name: 'TypeError',
      message: 'async boom',
    })
  })

  it('throws a rejection into the generator, which may catch it and go on', async () => {
    function* gen(): Generator<unknown, string, unknown> {
      let first: string
      try {
        first = (yield Promise.reject(new Error('first'))) as string
      } catch (error) {
        first = `caught ${(error as Error).message}`
      }
      const sync = (yield 'sync') as string
      let second: string
      try {
        second = (yield Promise.reject(new Error('second'))) as string
      } catch (error) {
        second = `caught ${(error as Error).message}`
      }
      const last = (yield Promise.resolve('last')) as string
      return [first, sync, second, last].join(', ')
    }
    assert.equal(await runSyncOrAsync(gen()), 'caught first, sync, caught second, last')
  })

  it('rejects with an error thrown by the generator after an await', async () => {
    function* gen(): Generator<unknown, number, unknown> {
      yield Promise.resolve(1)
      throw new Error('after await')
    }
    await assert.rejects(runSyncOrAsync(gen()) as Promise<number>, /after await/)
  })

  it('rejects with a later rejection the generator does not catch', async () => {
    function* gen(): Generator<unknown, number, unknown> {
      yield Promise.resolve(1)
      yield 2
      yield Promise.reject(new Error('late'))
      return 3
    }
    await assert.rejects(runSyncOrAsync(gen()) as Promise<number>, /late/)
  })
})
