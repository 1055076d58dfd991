import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManager } from '../core/login-manager.ts'
import { KeyRing } from '../crypto/keys.ts'
import { seal } from '../crypto/seal.ts'
import { LoginManagerError } from '../shared/errors.ts'
import {
  CookieSessionBackend,
  MAX_COOKIE_BYTES,
  OWN_PAYLOAD_BYTES,
  sealedLength,
} from './cookie-backend.ts'
import {
  FLASH_QUEUE_BYTES,
  jsonBytes,
  MAX_COOKIE_USER_ID_BYTES,
  MAX_FLASHES,
  MAX_VERSION_BYTES,
  truncateToJsonBytes,
} from './limits.ts'
import { Session } from './session.ts'

const SECRET = 'Lm4!tQ8#vX2@pR6$wN0^kB5&cF9*hJ1%'
const NAME = '__Host-session'
const keys = () => new KeyRing([SECRET]).forPurpose('session')

/** A finite number as long as JSON ever writes one (25 characters). */
const LONGEST_NUMBER = -0.0000012345678901234567

/** Every kind of string id of exactly 1024 bytes as JSON (quotes excluded). */
const WORST_IDS: Record<string, string> = {
  ascii: 'a'.repeat(1024),
  'three-byte characters': `${'佐'.repeat(341)}a`,
  'four-byte characters': '💥'.repeat(256),
  quotes: '"'.repeat(512),
  'control characters': `${'\u0001'.repeat(170)}abcd`,
}

/** Flash messages that fill the queue with the characters that cost the most bytes. */
function fillFlashes(session: Session): void {
  for (let i = 0; i < 3 * MAX_FLASHES; i++) {
    session.flash(`${i} ${'\u0001"\\é佐💥'.repeat(12)}`, `category-${i % 5}`)
  }
}

function worstSession(userId: string | number, next: string): Session {
  const session = new Session({
    createdAt: LONGEST_NUMBER,
    lastActive: LONGEST_NUMBER,
    permanent: true,
    auth: {
      userId,
      fresh: true,
      identifier: 'A'.repeat(22),
      rememberSeconds: LONGEST_NUMBER,
      version: '"'.repeat(MAX_VERSION_BYTES / 2),
      next,
    },
  })
  fillFlashes(session)
  return session
}

function plaintextBytes(value: string): number {
  // sealedLength is exact (tested below): invert it to get the plaintext's size.
  let bytes = 0
  while (sealedLength(bytes) < value.length) bytes++
  return bytes
}

describe('sealed cookie: the size of login-manager’s own part', () => {
  it('sealedLength is the exact length of a sealed value', () => {
    for (let n = 0; n < 200; n++) {
      assert.equal(seal(keys(), 'x'.repeat(n), NAME).length, sealedLength(n), `${n} bytes`)
    }
    assert.equal(seal(keys(), 'é'.repeat(500), NAME).length, sealedLength(1000))
  })

  it('the worst case fits in 4096 bytes with the default cookie name, with room for a session id', () => {
    const m = new LoginManager({ secret: SECRET, userLoader: () => null })
    assert.equal(m.options.session.name, NAME)
    assert.ok(NAME.length + 1 + sealedLength(OWN_PAYLOAD_BYTES) <= MAX_COOKIE_BYTES)
    const backend = new CookieSessionBackend(keys(), NAME)
    const longNext = `/${'%E7%99%BB'.repeat(227)}x`.padEnd(2048, 'y')
    assert.equal(longNext.length, 2048)
    for (const [label, id] of Object.entries({ ...WORST_IDS, number: LONGEST_NUMBER })) {
      backend.checkUserId(id)
      const session = worstSession(id, longNext)
      assert.ok(
        jsonBytes(session._flashes.map((f) => [f.category, f.message])) <= FLASH_QUEUE_BYTES,
      )
      const { value } = backend.save(session, LONGEST_NUMBER)
      // A session id, when the seal carries one, is part of what is measured here, and has the
      // room OWN_PAYLOAD_BYTES keeps for it.
      const bytes = plaintextBytes(value)
      assert.ok(bytes <= OWN_PAYLOAD_BYTES, `${label}: ${bytes} bytes`)
      assert.ok(NAME.length + 1 + value.length <= MAX_COOKIE_BYTES, `${label}: over 4096 bytes`)
      const loaded = backend.load(value)
      assert.ok(loaded.ok, label)
      assert.equal(loaded.init.auth.userId, id, `${label}: the id round-trips`)
      assert.equal(loaded.init.flashes.length, session._flashes.length)
    }
  })

  it('the next kept by useSessionForNext stays when it fits, and is left out when it does not', () => {
    const backend = new CookieSessionBackend(keys(), NAME)
    const next = `/search?q=${'a'.repeat(2038)}`
    assert.equal(next.length, 2048)
    const small = new Session({ createdAt: 1, lastActive: 1, auth: { next } })
    small.flash('Please log in to access this page.')
    const kept = backend.load(backend.save(small, 1).value)
    assert.ok(kept.ok)
    assert.equal(kept.init.auth.next, next, 'a 2048-character next fits beside a flash')

    const worst = worstSession(WORST_IDS.ascii as string, next)
    const dropped = backend.load(backend.save(worst, 1).value)
    assert.ok(dropped.ok)
    assert.equal(dropped.init.auth.next, undefined, 'left out rather than overflow')
    assert.equal(dropped.init.auth.userId, WORST_IDS.ascii, 'the login stays')

    const withData = new Session({ createdAt: 1, lastActive: 1, auth: { next } })
    withData.set('draft', 'd'.repeat(1500))
    const plaintext = backend.load(backend.save(withData, 1).value)
    assert.ok(plaintext.ok)
    assert.equal(plaintext.init.auth.next, undefined, "the app's data has priority over next")
    assert.equal(JSON.parse(plaintext.init.dataJson ?? '{}').draft, 'd'.repeat(1500))
  })

  it("only the app's data can overflow; the error names the largest entries by encoded size", () => {
    const backend = new CookieSessionBackend(keys(), NAME)
    const session = new Session({
      createdAt: 1,
      lastActive: 1,
      auth: { userId: 'alice', next: `/x?q=${'n'.repeat(2000)}` },
    })
    session.set('notes', 'n'.repeat(1600))
    // Fewer characters than 'notes', twice the bytes.
    session.set('names', 'é'.repeat(1200))
    session.flash('hello')
    assert.throws(
      () => backend.save(session, 1),
      (error: unknown) => {
        assert.ok(error instanceof LoginManagerError)
        assert.equal(error.code, 'ERR_COOKIE_TOO_LARGE')
        assert.match(
          error.message,
          /largest entries: 'names' \((\d+) bytes\), 'notes' \(\d+ bytes\)/,
        )
        const [, namesBytes] = /'names' \((\d+) bytes\)/.exec(error.message) ?? []
        assert.equal(Number(namesBytes), Math.ceil(((7 + 1 + 2402) * 4) / 3))
        assert.match(error.message, /'next' URL kept by useSessionForNext already left out/)
        return true
      },
    )
  })

  it('the error lists flash messages and the login state among the entries', () => {
    const backend = new CookieSessionBackend(keys(), NAME)
    const session = new Session({
      createdAt: 1,
      lastActive: 1,
      auth: { userId: 'u'.repeat(1000) },
    })
    session.set('blob', 'b'.repeat(1400))
    for (let i = 0; i < 10; i++) session.flash(`message ${i} ${'m'.repeat(100)}`)
    assert.throws(() => backend.save(session, 1), {
      code: 'ERR_COOKIE_TOO_LARGE',
      message:
        /largest entries: 'blob' \(\d+ bytes\), flash messages \(\d+ bytes\), the login state \(\d+ bytes\)/,
    })
  })

  it('a cookie name too long for the worst case is refused at start-up', () => {
    const longest = MAX_COOKIE_BYTES - 1 - sealedLength(OWN_PAYLOAD_BYTES)
    assert.doesNotThrow(() => new CookieSessionBackend(keys(), 's'.repeat(longest)))
    assert.throws(() => new CookieSessionBackend(keys(), 's'.repeat(longest + 1)), {
      code: 'ERR_INVALID_OPTION',
      message: new RegExp(`session.name: at most ${longest} characters`),
    })
    assert.throws(
      () =>
        new LoginManager({
          secret: SECRET,
          userLoader: () => null,
          session: { name: 's'.repeat(500) },
        }),
      { code: 'ERR_INVALID_OPTION' },
    )
  })
})

describe('login-time limits', () => {
  class Person {
    constructor(
      readonly id: string,
      readonly version: unknown = 1,
    ) {}
  }

  function manager(store: boolean) {
    return new LoginManager<Person>({
      secret: SECRET,
      userLoader: () => null,
      sessionVersion: (p) => p.version as string | number,
      ...(store ? { session: { store: memoryLikeStore() } } : {}),
    })
  }

  it('cookie sessions refuse a string id over 1024 bytes as JSON, stores do not', () => {
    const cookie = manager(false)
    for (const id of Object.values(WORST_IDS)) assert.equal(cookie._userIdOf(new Person(id)), id)
    for (const id of ['佐'.repeat(342), '💥'.repeat(257), '"'.repeat(513), '\u0001'.repeat(171)]) {
      assert.ok(id.length <= 1024, 'within the 1024-character rule, over the byte budget')
      assert.throws(() => cookie._userIdOf(new Person(id)), {
        code: 'ERR_USER_ID',
        message: new RegExp(`at most ${MAX_COOKIE_USER_ID_BYTES} bytes as JSON`),
      })
    }
    const stored = manager(true)
    assert.equal(stored._userIdOf(new Person('佐'.repeat(1024))), '佐'.repeat(1024))
  })

  it('sessionVersion must be a finite number or a string of at most 128 bytes, at login only', () => {
    const m = manager(false)
    assert.equal(m._versionOf(new Person('a', 'v'.repeat(128))), 'v'.repeat(128))
    assert.equal(m._versionOf(new Person('a', 'é'.repeat(64))), 'é'.repeat(64))
    assert.equal(m._versionOf(new Person('a', 7)), 7)
    assert.equal(m._versionOf(new Person('a', null)), undefined)
    for (const bad of [
      'v'.repeat(129),
      'é'.repeat(65),
      Number.NaN,
      Number.POSITIVE_INFINITY,
      true,
      {},
    ]) {
      assert.throws(() => m._versionOf(new Person('a', bad)), {
        code: 'ERR_INVALID_OPTION',
        message: /sessionVersion: must return a finite number or a string of at most 128 bytes/,
      })
      // A later request never throws for it: such a version simply matches nothing stored.
      assert.equal(m._versionMatches(new Person('a', bad), 'v'), false)
    }
  })
})

describe('truncateToJsonBytes', () => {
  it('keeps a text that fits, shortens one that does not at a code point, with …', () => {
    assert.equal(truncateToJsonBytes('hello', 7), 'hello')
    assert.equal(truncateToJsonBytes('hello world', 9), 'hell…')
    for (const text of ['💥'.repeat(50), '\u0001"\\é佐'.repeat(40), `a${'\ud800'.repeat(30)}`]) {
      for (let max = 5; max < 120; max++) {
        const out = truncateToJsonBytes(text, max)
        assert.ok(jsonBytes(out) <= max, `${JSON.stringify(out)} in ${max}`)
        assert.ok(out.endsWith('…'))
        assert.ok(text.startsWith(out.slice(0, -1)))
      }
    }
    // A surrogate pair is never split.
    for (let max = 5; max < 38; max++)
      assert.equal(truncateToJsonBytes('💥'.repeat(9), max).length % 2, 1)
  })
})

/** A minimal store: only its presence matters to these tests. */
function memoryLikeStore() {
  return {
    get: async () => null,
    write: async () => true,
    touch: async () => true,
    destroy: async () => {},
    members: async () => [],
    destroyIndex: async () => 0,
  }
}

describe('a worst-case flash queue in a cookie', () => {
  it('reads back every flash exactly', () => {
    const session = new Session({ createdAt: 1, lastActive: 1 })
    fillFlashes(session)
    const backend = new CookieSessionBackend(keys(), NAME)
    const loaded = backend.load(backend.save(session, 1).value)
    assert.ok(loaded.ok)
    assert.deepEqual(
      loaded.init.flashes.map((f) => ({ ...f })),
      session._flashes.map((f) => ({ ...f })),
    )
  })
})
