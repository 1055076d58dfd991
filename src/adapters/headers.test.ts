import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { describe, it } from 'node:test'
import { rawHeader } from './headers.ts'

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
