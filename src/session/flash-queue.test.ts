import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { queueFlash } from './flash-queue.ts'
import { FLASH_QUEUE_BYTES, jsonBytes, MAX_FLASHES } from './limits.ts'
import type { Flash } from './session.ts'
import { Session } from './session.ts'

const stored = (queue: readonly Flash[]) => queue.map((f) => [f.category, f.message])
const messages = (queue: readonly Flash[]) => queue.map((f) => f.message)

describe('queueFlash', () => {
  it('appends in order', () => {
    const queue: Flash[] = []
    queueFlash(queue, 'message', 'one')
    queueFlash(queue, 'error', 'two')
    assert.deepEqual(stored(queue), [
      ['message', 'one'],
      ['error', 'two'],
    ])
  })

  it('keeps an identical message once, as the newest; another category is another message', () => {
    const queue: Flash[] = []
    queueFlash(queue, 'message', 'Please log in')
    queueFlash(queue, 'info', 'Saved')
    for (let i = 0; i < 100; i++) queueFlash(queue, 'message', 'Please log in')
    queueFlash(queue, 'warning', 'Please log in')
    assert.deepEqual(stored(queue), [
      ['info', 'Saved'],
      ['message', 'Please log in'],
      ['warning', 'Please log in'],
    ])
  })

  it(`keeps at most ${MAX_FLASHES} messages, dropping the oldest`, () => {
    const queue: Flash[] = []
    for (let i = 0; i < 100; i++) queueFlash(queue, 'm', String(i))
    assert.equal(queue.length, MAX_FLASHES)
    assert.deepEqual(
      messages(queue),
      Array.from({ length: MAX_FLASHES }, (_, i) => String(100 - MAX_FLASHES + i)),
    )
  })

  it(`keeps the queue within ${FLASH_QUEUE_BYTES} bytes of JSON, dropping the oldest`, () => {
    const queue: Flash[] = []
    for (let i = 0; i < 40; i++) queueFlash(queue, 'message', `${i}:${'é'.repeat(150)}`)
    assert.ok(jsonBytes(stored(queue)) <= FLASH_QUEUE_BYTES)
    assert.ok(jsonBytes(stored(queue)) > FLASH_QUEUE_BYTES - 320, 'no more is dropped than needed')
    assert.equal(queue.at(-1)?.message, `39:${'é'.repeat(150)}`)
    const first = Number(queue[0]?.message.split(':')[0])
    assert.deepEqual(
      messages(queue).map((m) => Number(m.split(':')[0])),
      Array.from({ length: 40 - first }, (_, i) => first + i),
      'a contiguous run of the newest',
    )
  })

  it('shortens a single message over the budget, ending with …; the category stays', () => {
    const queue: Flash[] = [{ category: 'old', message: 'dropped' }]
    const long = '佐'.repeat(5000)
    queueFlash(queue, 'error', long)
    assert.equal(queue.length, 1)
    const [flash] = queue as [Flash]
    assert.equal(flash.category, 'error')
    assert.ok(flash.message.endsWith('…'))
    assert.ok(long.startsWith(flash.message.slice(0, -1)))
    assert.ok(jsonBytes(stored(queue)) <= FLASH_QUEUE_BYTES)
    assert.ok(jsonBytes(stored(queue)) > FLASH_QUEUE_BYTES - 8)
    // The same long message again is the same shortened message: kept once.
    queueFlash(queue, 'error', long)
    assert.equal(queue.length, 1)
  })

  it('shortens an absurdly long category too', () => {
    const queue: Flash[] = []
    queueFlash(queue, 'c'.repeat(10_000), 'm'.repeat(10_000))
    assert.ok(jsonBytes(stored(queue)) <= FLASH_QUEUE_BYTES)
    assert.ok((queue[0]?.category.length ?? 0) > 500)
    assert.ok((queue[0]?.message.length ?? 0) > 500)
  })

  it('never passes either limit, whatever is flashed', () => {
    const queue: Flash[] = []
    const pieces = ['', 'a', '"\\', '\u0001\u001f', 'é', '佐', '💥', '\ud800', 'x'.repeat(700)]
    let seed = 7
    const random = () => {
      seed = (seed * 48271) % 2147483647
      return seed
    }
    for (let i = 0; i < 500; i++) {
      let message = ''
      for (let n = random() % 12; n > 0; n--) message += pieces[random() % pieces.length]
      queueFlash(queue, pieces[random() % 4] as string, message)
      assert.ok(queue.length <= MAX_FLASHES)
      assert.ok(jsonBytes(stored(queue)) <= FLASH_QUEUE_BYTES, `after flash #${i}`)
    }
  })
})

describe('Session.flash uses the bounded queue', () => {
  it('a flash from a cached cookie is copied, then bounded and deduplicated', () => {
    const shared = Object.freeze([Object.freeze({ category: 'message', message: 'Please log in' })])
    const session = new Session({
      createdAt: 1,
      lastActive: 1,
      flashes: shared as unknown as Flash[],
    })
    for (let i = 0; i < 64; i++) session.flash('Please log in')
    assert.equal(shared.length, 1, 'the cached queue is untouched')
    assert.deepEqual(stored(session._flashes), [['message', 'Please log in']])
    assert.equal(session.modified, true)
    assert.deepEqual(messages(session.consumeFlashes()), ['Please log in'])
  })
})
