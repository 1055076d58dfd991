/** Why an incoming cookie was ignored; carried by the `cookieRejected` event. */
export type CookieRejection =
  | 'oversized'
  | 'malformed'
  | 'unknown-key'
  | 'decrypt'
  | 'signature'
  | 'expired'
  | 'idle-timeout'
  | 'absolute-timeout'
  | 'future-dated'
  | 'unknown-user'
  | 'inactive-user'
  | 'revoked'
  | 'unknown-session'
  | 'reused'
  /** A sealed session or remember-me token ended (logout, rotation) before its timeout: on the revocation list. */
  | 'ended'
