import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../shared/errors.ts'
import { LoginManager, type LoginManagerOptions } from './login-manager.ts'
import { nearestName } from './option-keys.ts'

const SECRET = randomBytes(32).toString('base64url')

/** What a JavaScript caller can pass: options TypeScript would refuse. */
function build(extra: Record<string, unknown>): LoginManager<object> {
  return new LoginManager({
    secret: SECRET,
    userLoader: () => null,
    ...extra,
  } as unknown as LoginManagerOptions<object>)
}

function refused(extra: Record<string, unknown>): string {
  let message = ''
  assert.throws(
    () => build(extra),
    (error: unknown) => {
      assert.ok(error instanceof LoginManagerError, `a LoginManagerError, got ${error}`)
      assert.equal(error.code, 'ERR_INVALID_OPTION')
      message = error.message
      return true
    },
  )
  return message
}

describe('unknown option keys', () => {
  it("a misspelled key names the nearest valid one: 'loginview' -> 'loginView'", () => {
    assert.equal(
      refused({ loginview: '/login' }),
      "ERR_INVALID_OPTION: unknown option 'loginview': did you mean 'loginView'? (see docs/configuration.md)",
    )
  })

  it('typos within a few letters are matched', () => {
    assert.match(
      refused({ userLodaer: () => null }),
      /unknown option 'userLodaer': did you mean 'userLoader'\?/,
    )
    assert.match(refused({ secrets: [SECRET] }), /'secrets': did you mean 'secret'\?/)
    assert.match(refused({ sessionProtecton: 'strong' }), /did you mean 'sessionProtection'\?/)
    assert.match(refused({ refreshview: '/re' }), /did you mean 'refreshView'\?/)
  })

  it('a nested option given at the top level names where it belongs', () => {
    assert.match(refused({ store: {} }), /unknown option 'store': did you mean 'session.store'\?/)
    assert.match(refused({ idleTimeout: 60 }), /did you mean 'session.idleTimeout'\?/)
    assert.match(refused({ duration: 60 }), /did you mean 'remember.duration'\?/)
  })

  it('keys inside session and remember are checked too', () => {
    assert.match(
      refused({ session: { idletimeout: 60 } }),
      /unknown option 'session.idletimeout': did you mean 'session.idleTimeout'\?/,
    )
    assert.match(
      refused({ remember: { durration: 60 } }),
      /unknown option 'remember.durration': did you mean 'remember.duration'\?/,
    )
    assert.match(
      refused({ revocation: { maxentries: 10 } }),
      /unknown option 'revocation.maxentries': did you mean 'revocation.maxEntries'\?/,
    )
  })

  it('a key like no option lists the valid ones at its level', () => {
    const message = refused({ colour: 'blue' })
    assert.match(message, /unknown option 'colour': the options are secret, userLoader, /)
    assert.match(message, /, session, remember, revocation, now \(see docs\/configuration\.md\)$/)
    assert.match(
      refused({ session: { colour: 'blue' } }),
      /unknown option 'session.colour': the session options are session.name, session.domain, /,
    )
  })

  it('is refused even when its value is undefined, before the secret is checked', () => {
    assert.throws(
      () => new LoginManager({ loginview: undefined } as unknown as LoginManagerOptions<object>),
      /ERR_INVALID_OPTION: unknown option 'loginview'/,
    )
  })

  it('every documented option is accepted', () => {
    const manager = build({
      anonymousUser: () => ({}),
      getUserId: (user: { id: string }) => user.id,
      sessionVersion: () => 1,
      loginView: '/login',
      loginViews: { '/admin': '/admin/login' },
      refreshView: '/reauthenticate',
      resolveEndpoint: (name: string) => `/${name}`,
      loginMessage: 'Log in',
      loginMessageCategory: 'info',
      refreshMessage: 'Again',
      refreshMessageCategory: 'info',
      localize: (message: string) => message,
      useSessionForNext: false,
      nextField: 'next',
      forceHostForRedirects: 'app.example',
      origin: 'https://app.example',
      allowedRedirectOrigins: ['https://docs.example'],
      exemptMethods: ['OPTIONS'],
      sessionProtection: 'strong',
      negotiate: true,
      onUnauthorized: undefined,
      onNeedsRefresh: undefined,
      now: Date.now,
      session: {
        name: '__Host-s',
        domain: undefined,
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'lax',
        idleTimeout: 600,
        absoluteTimeout: 3600,
        touchInterval: 60,
        store: undefined,
        onStoreError: 'fail',
        keepOnLogin: 'all',
      },
      remember: {
        name: '__Host-r',
        duration: 3600,
        refreshEachRequest: false,
        format: 'sealed',
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'lax',
        domain: undefined,
      },
      revocation: { store: undefined, maxEntries: 1000, resyncInterval: 5 },
    })
    assert.equal(manager.options.session.idleTimeout, 600)
  })

  it('nearestName gives up on names like none of the options', () => {
    assert.equal(nearestName('foo'), undefined)
    assert.equal(nearestName('session.colour'), undefined)
    assert.equal(nearestName('LOGINVIEW'), 'loginView')
  })
})
