import { sha256Base64url } from '../crypto/hash.ts'
import type { AuthState } from '../session/session.ts'
import { RecentMap } from '../shared/recent-map.ts'

/** The most (address, user agent) pairs one manager remembers (the most recently seen). */
const IDENTIFIER_CACHE_LIMIT = 10_000

/**
 * Session-protection identifiers of the clients one manager serves: SHA-256 of
 * "address|user agent", 128 bits in base64url. The same clients come back request after request,
 * so each pair is hashed once; the last pair is checked first, since a busy connection sends the
 * same one many times in a row and comparing two strings is cheaper than a map lookup.
 */
export class ClientIdentifiers {
  readonly #byClient = new RecentMap<string, string>(IDENTIFIER_CACHE_LIMIT)
  #lastAddress = ''
  #lastAgent: string | undefined
  #lastIdentifier = ''

  /** The identifier of a client; `address` and `agent` are `''` when the request has none. */
  of(address: string, agent: string): string {
    if (agent === this.#lastAgent && address === this.#lastAddress) return this.#lastIdentifier
    const client = `${address}|${agent}`
    let identifier = this.#byClient.get(client)
    if (identifier === undefined) {
      identifier = sha256Base64url(client).slice(0, 22)
      this.#byClient.set(client, identifier)
    }
    this.#lastAddress = address
    this.#lastAgent = agent
    this.#lastIdentifier = identifier
    return identifier
  }
}

/**
 * What session protection does to a login (Flask's `_session_protection_failed`):
 * - `keep`: the client is the one that logged in (or protection is off);
 * - `bind`: the login has no identifier yet (made by the testing helper): bind it to this client;
 * - `demote`: another client, in `basic` mode or a permanent session: the login stays, not fresh;
 * - `drop`: another client in `strong` mode: the login ends.
 */
export type ProtectionVerdict = 'keep' | 'bind' | 'demote' | 'drop'

/** Session protection as a pure decision on the session's login and the current client. */
export function protectionVerdict(
  mode: 'basic' | 'strong' | null,
  login: Pick<AuthState, 'identifier'>,
  permanent: boolean,
  currentIdentifier: string,
): ProtectionVerdict {
  if (mode === null) return 'keep'
  const stored = login.identifier
  if (stored === null) return 'bind'
  if (stored === currentIdentifier) return 'keep'
  return mode === 'basic' || permanent ? 'demote' : 'drop'
}
