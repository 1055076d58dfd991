import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { getCookie, getCookies, parseCookies } from './parse.ts'

describe('getCookie', () => {
  it('finds a cookie among several', () => {
    const header = 'a=1; session=abc; b=2'
    assert.equal(getCookie(header, 'a'), '1')
    assert.equal(getCookie(header, 'session'), 'abc')
    assert.equal(getCookie(header, 'b'), '2')
    assert.equal(getCookie(header, 'c'), undefined)
  })

  it('is not fooled by names that are a prefix or suffix of another', () => {
    assert.equal(getCookie('xsession=1; session=2', 'session'), '2')
    assert.equal(getCookie('sessionx=1; session=2', 'session'), '2')
    assert.equal(getCookie('session_id=1; session=2', 'session'), '2')
    assert.equal(getCookie('a=session=1; session=2', 'session'), '2')
    assert.equal(getCookie('a=x; session', 'session'), undefined)
    assert.equal(getCookie('xsession=1', 'session'), undefined)
    assert.equal(getCookie('session=1', 'sessio'), undefined)
  })

  it('never matches a prefixed name that is spelt, quoted or encoded differently', () => {
    const spoofs = [
      '%5F%5FHost-x=bad',
      '__%48ost-x=bad',
      '"__Host-x"=bad',
      "'__Host-x'=bad",
      '=__Host-x=bad',
      '..Host-x=bad',
      '_[Host-x=bad',
      '__host-x=bad',
      '__HOST-x=bad',
      '__Host-x\u0000=bad',
      '\u0000__Host-x=bad',
      '__Host-x =bad'.replace(' ', '\u00a0'),
    ]
    for (const spoof of spoofs) {
      assert.equal(getCookie(spoof, '__Host-x'), undefined, spoof)
      assert.equal(getCookie(`${spoof}; __Host-x=good`, '__Host-x'), 'good', spoof)
    }
  })

  it('ignores nameless pairs', () => {
    assert.equal(getCookie('=v', ''), undefined)
    assert.equal(getCookie('=v; a=1', 'a'), '1')
    assert.equal(getCookie('v; a=1', 'a'), '1')
    assert.equal(getCookie('a; a=1', 'a'), '1')
    assert.equal(getCookie(' =x; =y', 'x'), undefined)
  })

  it('returns the first of duplicates', () => {
    assert.equal(getCookie('sid=first; sid=second', 'sid'), 'first')
    assert.equal(getCookie('sid=; sid=second', 'sid'), '')
  })

  it('removes surrounding double quotes of a value, once', () => {
    assert.equal(getCookie('a="quoted"', 'a'), 'quoted')
    assert.equal(getCookie('a=""', 'a'), '')
    assert.equal(getCookie('a="', 'a'), '"')
    assert.equal(getCookie('a="x', 'a'), '"x')
    assert.equal(getCookie('a=""x""', 'a'), '"x"')
    assert.equal(getCookie('a= "x" ', 'a'), 'x')
  })

  it('does not percent-decode values', () => {
    assert.equal(getCookie('a=%20x%3B', 'a'), '%20x%3B')
    assert.equal(getCookie('a=%E0%A4%A', 'a'), '%E0%A4%A')
  })

  it('keeps "=" inside values', () => {
    assert.equal(getCookie('a=b=c==', 'a'), 'b=c==')
  })

  it('trims spaces and tabs around names and values', () => {
    assert.equal(getCookie('  a  =  1  ;\tb\t=\t2\t', 'a'), '1')
    assert.equal(getCookie('  a  =  1  ;\tb\t=\t2\t', 'b'), '2')
    assert.equal(getCookie('a=1;b=2;;;c=3;', 'c'), '3')
    assert.equal(getCookie('a=   ', 'a'), '')
    assert.equal(getCookie('a = x y ', 'a'), 'x y')
  })

  it('handles empty and missing headers', () => {
    assert.equal(getCookie(undefined, 'a'), undefined)
    assert.equal(getCookie('', 'a'), undefined)
    assert.equal(getCookie(';;;', 'a'), undefined)
    assert.equal(getCookie('a=1', ''), undefined)
    assert.equal(getCookie(42 as unknown as string, 'a'), undefined)
  })

  it('reads a __proto__ cookie like any other', () => {
    assert.equal(getCookie('__proto__=x', '__proto__'), 'x')
  })

  it('finishes on 100k-character adversarial headers', () => {
    const headers = [
      'a;'.repeat(50_000),
      ';'.repeat(100_000),
      '='.repeat(100_000),
      ' '.repeat(100_000),
      `${'a'.repeat(100_000)}=1`,
      `${'a '.repeat(50_000)}=1`,
      'a=1;'.repeat(25_000),
      `${'x;'.repeat(50_000)}target=found`,
      `${'"'.repeat(100_000)}`,
    ]
    for (const header of headers) {
      getCookie(header, 'target')
      getCookie(header, 'a')
      parseCookies(header)
    }
    assert.equal(getCookie(`${'x;'.repeat(50_000)}target=found`, 'target'), 'found')
  })
})

describe('getCookies', () => {
  it('returns every value of a name, in header order', () => {
    assert.deepEqual(getCookies('s=attacker; a=1; s=victim', 's'), ['attacker', 'victim'])
    assert.deepEqual(getCookies('s=1', 's'), ['1'])
    assert.deepEqual(getCookies('a=1; b=2', 's'), [])
  })

  it('keeps repeats and empty values (the caller decides what to skip)', () => {
    assert.deepEqual(getCookies('s=x; s=; s=x; s=""', 's'), ['x', '', 'x', ''])
  })

  it('treats names and values exactly as getCookie does', () => {
    const header = ' s = "a" ;xs=no; sx=no; "s"=no; %73=no; =s; s; s=b=c ;\ts\t=\td\t'
    assert.deepEqual(getCookies(header, 's'), ['a', 'b=c', 'd'])
    assert.equal(getCookies(header, 's')[0], getCookie(header, 's'))
    for (const spoof of ['%5F%5FHost-x=bad', '"__Host-x"=bad', '__host-x=bad', '=__Host-x=bad']) {
      assert.deepEqual(getCookies(`${spoof}; __Host-x=good`, '__Host-x'), ['good'], spoof)
    }
  })

  it('never throws, whatever the header or name', () => {
    assert.deepEqual(getCookies(undefined, 's'), [])
    assert.deepEqual(getCookies('', 's'), [])
    assert.deepEqual(getCookies(';;;', 's'), [])
    assert.deepEqual(getCookies('s=1', ''), [])
    assert.deepEqual(getCookies(42 as unknown as string, 's'), [])
    assert.deepEqual(getCookies('s=1', undefined as unknown as string), [])
    assert.deepEqual(getCookies('__proto__=x; __proto__=y', '__proto__'), ['x', 'y'])
  })

  it('finishes on 100k-character adversarial headers', () => {
    for (const header of [
      'a;'.repeat(50_000),
      '='.repeat(100_000),
      's=1;'.repeat(25_000),
      `${'x;'.repeat(50_000)}s=found`,
    ]) {
      getCookies(header, 's')
    }
    assert.equal(getCookies('s=1;'.repeat(25_000), 's').length, 25_000)
    assert.deepEqual(getCookies(`${'x;'.repeat(50_000)}s=found`, 's'), ['found'])
  })
})

describe('parseCookies', () => {
  it('parses every cookie into a null-prototype object', () => {
    const cookies = parseCookies('a=1; b="2"; c=%20')
    assert.equal(Object.getPrototypeOf(cookies), null)
    assert.deepEqual({ ...cookies }, { a: '1', b: '2', c: '%20' })
  })

  it('keeps the first occurrence of each name', () => {
    assert.deepEqual({ ...parseCookies('a=1; a=2; b=3; b=4') }, { a: '1', b: '3' })
  })

  it('is not polluted by __proto__, constructor or toString cookies', () => {
    const cookies = parseCookies('__proto__=x; constructor=y; toString=z; hasOwnProperty=w')
    const proto = '__proto__'
    assert.equal(cookies[proto], 'x')
    assert.equal(cookies.constructor, 'y')
    assert.equal(Object.getPrototypeOf(cookies), null)
    assert.equal(({} as Record<string, unknown>).x, undefined)
    assert.deepEqual(Object.keys(cookies), [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    ])
  })

  it('keeps names byte-exact and skips nameless pairs', () => {
    const cookies = parseCookies('=__Host-x=1; "__Host-x"=2; %5F%5FHost-x=3; v; __Host-x=4')
    assert.deepEqual({ ...cookies }, { '"__Host-x"': '2', '%5F%5FHost-x': '3', '__Host-x': '4' })
  })

  it('handles empty, missing and odd headers', () => {
    assert.deepEqual({ ...parseCookies(undefined) }, {})
    assert.deepEqual({ ...parseCookies('') }, {})
    assert.deepEqual({ ...parseCookies(';; ; =;') }, {})
    assert.deepEqual({ ...parseCookies('  a = 1 ;b=;c') }, { a: '1', b: '' })
    assert.deepEqual({ ...parseCookies(42 as unknown as string) }, {})
  })
})
