import assert from 'node:assert/strict'
import { createServer, get, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import type { Reply, ResponseFinish } from '../adapter/index.ts'
import { STORE_UNAVAILABLE } from '../adapter/index.ts'
import { finishOnHeaders, nodeHeader, writeReply } from './node.ts'

interface Received {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Runs `handler` behind a real server on 127.0.0.1 for one GET request. */
async function roundTrip(handler: (res: ServerResponse) => void): Promise<Received> {
  const server = createServer((_req, res) => handler(res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  try {
    return await new Promise<Received>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      }).on('error', reject)
    })
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** A stand-in cycle that answers `finish` with `answer` and records the calls. */
function cycle(answer: Partial<ResponseFinish> | null, writesToStore = false) {
  const calls: { status: number; vary: string | undefined; cacheControl: string | undefined }[] = []
  return {
    calls,
    writesToStore,
    finish(
      status: number,
      current: { vary?: string | undefined; cacheControl?: string | undefined },
    ) {
      calls.push({ status, vary: current.vary, cacheControl: current.cacheControl })
      if (calls.length > 1 || answer === null) return null
      return {
        setCookie: [],
        vary: undefined,
        cacheControl: undefined,
        writes: undefined,
        ...answer,
      }
    },
  }
}

describe('finishOnHeaders', () => {
  it('finishes with the final status and the app headers right before the headers go out', async () => {
    const c = cycle({
      setCookie: ['s=1; Path=/'],
      vary: 'Accept, Cookie',
      cacheControl: 'private, no-store',
    })
    const received = await roundTrip((res) => {
      finishOnHeaders(res, c)
      res.setHeader('set-cookie', 'app=1')
      res.setHeader('vary', 'Accept')
      res.statusCode = 201
      res.end('ok')
    })
    assert.deepEqual(c.calls, [{ status: 201, vary: 'Accept', cacheControl: undefined }])
    assert.equal(received.status, 201)
    assert.deepEqual(received.headers['set-cookie'], ['app=1', 's=1; Path=/'])
    assert.equal(received.headers.vary, 'Accept, Cookie')
    assert.equal(received.headers['cache-control'], 'private, no-store')
  })

  it('sees headers given to writeHead and an explicit status; adds nothing for a null finish', async () => {
    const c = cycle(null)
    const received = await roundTrip((res) => {
      finishOnHeaders(res, c)
      res.writeHead(503, { 'content-type': 'text/plain', vary: 'Origin' })
      res.end('down')
    })
    assert.deepEqual(c.calls, [{ status: 503, vary: 'Origin', cacheControl: undefined }])
    assert.equal(received.status, 503)
    assert.equal(received.headers['set-cookie'], undefined)
    assert.equal(received.headers.vary, 'Origin')
  })

  it('applies cookies to a streamed response, at its first write', async () => {
    const c = cycle({ setCookie: ['s=1'] })
    const received = await roundTrip((res) => {
      finishOnHeaders(res, c)
      res.write('part 1, ')
      res.end('part 2')
    })
    assert.equal(received.body, 'part 1, part 2')
    assert.deepEqual(received.headers['set-cookie'], ['s=1'])
  })

  it('with a store, holds the end until the writes land', async () => {
    let land: (value: Reply | null) => void = () => {}
    const writes = new Promise<Reply | null>((resolve) => {
      land = resolve
    })
    let ended = false
    const c = cycle({ setCookie: ['s=1'], writes }, true)
    const received = roundTrip((res) => {
      finishOnHeaders(res, c)
      res.on('finish', () => {
        ended = true
      })
      res.end('ok')
      setTimeout(() => {
        assert.equal(ended, false, 'ended before the writes landed')
        land(null)
      }, 20)
    })
    const { body, headers } = await received
    assert.equal(body, 'ok')
    assert.deepEqual(headers['set-cookie'], ['s=1'])
  })

  it("replaces the whole response with the writes' reply when one failed", async () => {
    const c = cycle({ setCookie: ['s=1'], writes: Promise.resolve(STORE_UNAVAILABLE) }, true)
    const received = await roundTrip((res) => {
      finishOnHeaders(res, c)
      res.setHeader('x-app', '1')
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    })
    assert.equal(received.status, 503)
    assert.equal(received.body, STORE_UNAVAILABLE.body)
    assert.equal(received.headers['x-app'], undefined)
    assert.equal(received.headers['set-cookie'], undefined)
    assert.equal(received.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(received.headers['retry-after'], '5')
    assert.equal(received.headers['cache-control'], 'no-store')
    assert.equal(received.headers.vary, 'Cookie')
  })

  it('ends a streamed response as it was when a write failed after its headers went out', async () => {
    const c = cycle({ writes: Promise.resolve(STORE_UNAVAILABLE) }, true)
    const received = await roundTrip((res) => {
      finishOnHeaders(res, c)
      res.write('part 1, ')
      res.end('part 2')
    })
    assert.equal(received.status, 200)
    assert.equal(received.body, 'part 1, part 2')
  })
})

describe('writeReply', () => {
  it('writes the status, exactly the headers and the body', async () => {
    const received = await roundTrip((res) => {
      writeReply(res, {
        status: 401,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-why': 'login' },
        body: 'no',
      })
    })
    assert.equal(received.status, 401)
    assert.equal(received.headers['x-why'], 'login')
    assert.equal(received.body, 'no')
  })

  it('does nothing once the headers were sent', async () => {
    const received = await roundTrip((res) => {
      res.write('already')
      writeReply(res, STORE_UNAVAILABLE)
      res.end()
    })
    assert.equal(received.status, 200)
    assert.equal(received.body, 'already')
  })
})

describe('nodeHeader', () => {
  it('reads a header by lower-case name, joining repeated values', () => {
    assert.equal(nodeHeader({ cookie: 'a=1; b=2' }, 'cookie'), 'a=1; b=2')
    assert.equal(nodeHeader({ 'x-list': ['a', 'b'] }, 'x-list'), 'a, b')
    assert.equal(nodeHeader({}, 'cookie'), undefined)
  })
})
