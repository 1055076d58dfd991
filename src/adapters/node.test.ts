import assert from 'node:assert/strict'
import {
  createServer,
  get,
  type IncomingHttpHeaders,
  IncomingMessage,
  type ServerResponse,
  ServerResponse as ServerResponseClass,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect, Socket } from 'node:net'
import { describe, it } from 'node:test'
import type { ResponseEffects } from '../core/auth.ts'
import { redirect, respond } from '../core/outcome.ts'
import { addVaryCookie, applyBeforeHeaders, applyEffects, rawHeader, sendOutcome } from './node.ts'

/** A response object nobody sends; enough to inspect headers set on it. */
function bareResponse(): ServerResponse {
  return new ServerResponseClass(new IncomingMessage(new Socket()))
}

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

const effects = (overrides: Partial<ResponseEffects> = {}): ResponseEffects => ({
  cookies: [],
  vary: false,
  noStore: false,
  ...overrides,
})

describe('addVaryCookie', () => {
  it('adds Cookie to an absent or empty Vary', () => {
    assert.equal(addVaryCookie(undefined), 'Cookie')
    assert.equal(addVaryCookie(''), 'Cookie')
    assert.equal(addVaryCookie('   '), 'Cookie')
  })

  it('appends Cookie to other fields', () => {
    assert.equal(addVaryCookie('Accept'), 'Accept, Cookie')
    assert.equal(addVaryCookie('Accept, Accept-Encoding'), 'Accept, Accept-Encoding, Cookie')
    assert.equal(addVaryCookie('Cookies'), 'Cookies, Cookie', 'only the exact field name counts')
  })

  it('leaves a Vary that already covers cookies (undefined = no change)', () => {
    assert.equal(addVaryCookie('*'), undefined)
    assert.equal(addVaryCookie('cookie'), undefined)
    assert.equal(addVaryCookie('Cookie'), undefined)
    assert.equal(addVaryCookie('Accept, COOKIE'), undefined)
    assert.equal(addVaryCookie('Accept ,  cookie , Origin'), undefined)
    assert.equal(addVaryCookie('Accept, *'), undefined)
  })
})

describe('applyEffects', () => {
  it('appends to an existing Set-Cookie string, never replacing it', () => {
    const res = bareResponse()
    res.setHeader('set-cookie', 'app=1; Path=/')
    applyEffects(res, effects({ cookies: ['a=1', 'b=2'] }))
    assert.deepEqual(res.getHeader('set-cookie'), ['app=1; Path=/', 'a=1', 'b=2'])
  })

  it('appends to an existing Set-Cookie array', () => {
    const res = bareResponse()
    res.setHeader('set-cookie', ['x=1', 'y=2'])
    applyEffects(res, effects({ cookies: ['a=1'] }))
    assert.deepEqual(res.getHeader('set-cookie'), ['x=1', 'y=2', 'a=1'])
  })

  it('sets Set-Cookie when there was none', () => {
    const res = bareResponse()
    applyEffects(res, effects({ cookies: ['a=1'] }))
    assert.deepEqual(res.getHeader('set-cookie'), ['a=1'])
  })

  it('does not touch Set-Cookie when there are no cookies', () => {
    const res = bareResponse()
    res.setHeader('set-cookie', 'app=1')
    applyEffects(res, effects())
    assert.equal(res.getHeader('set-cookie'), 'app=1')
    assert.equal(bareResponse().hasHeader('set-cookie'), false)
  })

  it('adds Vary: Cookie only when asked, merging with an existing Vary', () => {
    const none = bareResponse()
    applyEffects(none, effects())
    assert.equal(none.hasHeader('vary'), false)

    const fresh = bareResponse()
    applyEffects(fresh, effects({ vary: true }))
    assert.equal(fresh.getHeader('vary'), 'Cookie')

    const merged = bareResponse()
    merged.setHeader('vary', 'Accept-Encoding')
    applyEffects(merged, effects({ vary: true }))
    assert.equal(merged.getHeader('vary'), 'Accept-Encoding, Cookie')

    const star = bareResponse()
    star.setHeader('vary', '*')
    applyEffects(star, effects({ vary: true }))
    assert.equal(star.getHeader('vary'), '*')
  })

  it('makes a Set-Cookie response uncacheable only when noStore is set', () => {
    const res = bareResponse()
    res.setHeader('cache-control', 'public, max-age=3600')
    applyEffects(res, effects({ cookies: ['a=1'], vary: true, noStore: true }))
    assert.equal(res.getHeader('cache-control'), 'private, no-store')

    const cached = bareResponse()
    cached.setHeader('cache-control', 'public, max-age=60')
    applyEffects(cached, effects({ vary: true }))
    assert.equal(cached.getHeader('cache-control'), 'public, max-age=60')
  })
})

describe('applyBeforeHeaders', () => {
  it('commits with the final status right before the headers go out', async () => {
    const statuses: number[] = []
    const received = await roundTrip((res) => {
      applyBeforeHeaders(res, {
        commit(status) {
          statuses.push(status)
          return effects({ cookies: ['s=1; Path=/'], vary: true, noStore: true })
        },
      })
      res.setHeader('set-cookie', 'app=1')
      res.statusCode = 201
      res.end('ok')
    })
    assert.deepEqual(statuses, [201])
    assert.equal(received.status, 201)
    assert.deepEqual(received.headers['set-cookie'], ['app=1', 's=1; Path=/'])
    assert.equal(received.headers.vary, 'Cookie')
    assert.equal(received.headers['cache-control'], 'private, no-store')
  })

  it('passes an explicit writeHead status, and sends nothing extra for a null commit', async () => {
    const statuses: number[] = []
    const received = await roundTrip((res) => {
      applyBeforeHeaders(res, {
        commit(status) {
          statuses.push(status)
          return null
        },
      })
      res.writeHead(503, { 'content-type': 'text/plain' })
      res.end('down')
    })
    assert.deepEqual(statuses, [503])
    assert.equal(received.status, 503)
    assert.equal(received.headers['set-cookie'], undefined)
    assert.equal(received.headers.vary, undefined)
  })
})

describe('sendOutcome', () => {
  it('sends a redirect with Location and a short text body', async () => {
    const received = await roundTrip((res) => sendOutcome(res, redirect('/login?next=%2Fp')))
    assert.equal(received.status, 302)
    assert.equal(received.headers.location, '/login?next=%2Fp')
    assert.equal(received.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(received.body, 'Redirecting to /login?next=%2Fp')
  })

  it('keeps the redirect status', async () => {
    const received = await roundTrip((res) => sendOutcome(res, redirect('/x', 303)))
    assert.equal(received.status, 303)
    assert.equal(received.headers.location, '/x')
  })

  it('sends a string body as text/plain', async () => {
    const received = await roundTrip((res) => sendOutcome(res, respond(401, 'Unauthorized')))
    assert.equal(received.status, 401)
    assert.equal(received.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(received.body, 'Unauthorized')
  })

  it('sends any other body as JSON', async () => {
    const received = await roundTrip((res) =>
      sendOutcome(res, respond(401, { error: 'Unauthorized', n: [1] })),
    )
    assert.equal(received.status, 401)
    assert.equal(received.headers['content-type'], 'application/json; charset=utf-8')
    assert.deepEqual(JSON.parse(received.body), { error: 'Unauthorized', n: [1] })
  })

  it('sends an empty body for undefined (and null)', async () => {
    for (const body of [undefined, null]) {
      const received = await roundTrip((res) => sendOutcome(res, respond(401, body)))
      assert.equal(received.status, 401)
      assert.equal(received.body, '')
      assert.equal(received.headers['content-type'], undefined)
    }
  })

  it("sends the outcome's headers, and a given content-type wins", async () => {
    const received = await roundTrip((res) =>
      sendOutcome(
        res,
        respond(403, '<p>no</p>', {
          'content-type': 'text/html; charset=utf-8',
          'www-authenticate': 'Basic realm="x"',
        }),
      ),
    )
    assert.equal(received.status, 403)
    assert.equal(received.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(received.headers['www-authenticate'], 'Basic realm="x"')
    assert.equal(received.body, '<p>no</p>')
  })

  it('does nothing once the headers were sent', async () => {
    const received = await roundTrip((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('partial')
      assert.equal(res.headersSent, true)
      assert.doesNotThrow(() => sendOutcome(res, redirect('/login')))
      assert.doesNotThrow(() => sendOutcome(res, respond(401, { error: 'x' })))
      res.end(' done')
    })
    assert.equal(received.status, 200)
    assert.equal(received.headers.location, undefined)
    assert.equal(received.body, 'partial done')
  })
})

describe('rawHeader', () => {
  it('reads each header exactly as req.headers does, repeats included, without building it', async () => {
    const names = ['cookie', 'user-agent', 'accept', 'host', 'x-requested-with', 'x-absent']
    const seen = await new Promise<{ raw: string[]; expected: Record<string, unknown> }>(
      (resolve, reject) => {
        const server = createServer((req, res) => {
          const raw = names.map((name) => rawHeader(req.rawHeaders, name) ?? '(none)')
          const expected = Object.fromEntries(names.map((n) => [n, req.headers[n] ?? '(none)']))
          res.end()
          server.close()
          resolve({ raw, expected })
        })
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as AddressInfo
          const socket = connect(port, '127.0.0.1', () => {
            socket.end(
              'GET / HTTP/1.1\r\nHost: a.test\r\nCookie: a=1\r\nUser-Agent: first\r\n' +
                'Accept: text/html\r\ncookie: b=2\r\nUSER-AGENT: second\r\naccept: */*\r\n' +
                'X-Requested-With: XMLHttpRequest\r\nConnection: close\r\n\r\n',
            )
          })
          socket.on('error', reject)
          socket.resume()
        })
      },
    )
    assert.deepEqual(seen.raw, Object.values(seen.expected))
    assert.deepEqual(seen.raw, [
      'a=1; b=2',
      'first',
      'text/html, */*',
      'a.test',
      'XMLHttpRequest',
      '(none)',
    ])
  })

  it('folds only ASCII letters when matching names: other characters must be equal', () => {
    const raw = [
      'cOOKIE',
      'a=1',
      'X_Requested_With',
      'yes',
      'Accept\u212A',
      'k',
      'X-Requested-With',
      'no',
    ]
    assert.equal(rawHeader(raw, 'cookie'), 'a=1')
    // '_' is not '-', and no character folds into another one ('_' is '-' + 0x32, KELVIN SIGN lower-cases to 'k').
    assert.equal(rawHeader(raw, 'x-requested-with'), 'no')
    assert.equal(rawHeader(raw, 'acceptk'), undefined)
  })
})
