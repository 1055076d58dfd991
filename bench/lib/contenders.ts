import { testLogin } from 'login-manager/testing'
import { LOGIN_FORM } from './form.ts'
import { createBenchManager, User } from './login-manager-app.ts'

/** The route every contender serves, and what a logged-in request gets back. */
export const PATH = '/protected'
export const EXPECTED_BODY = 'Logged in as: leafstorm'
/** The content type of the login form. */
export const FORM_TYPE = 'application/x-www-form-urlencoded'
/** Sent on every request: session protection binds the login-manager session to it. */
export const USER_AGENT = 'login-manager-bench/1'

export type ContenderKey = 'bare' | 'bare-same-request' | 'login-manager' | 'floor' | 'passport'

/**
 * What a contender is in the report:
 * - `bare`: the framework alone, loaded without a cookie: the reference of every "% of bare";
 * - `same-request`: the same bare server (another process), loaded with exactly login-manager's
 *   request headers (its session cookie and user agent): what the Cookie header alone costs the
 *   framework, and the reference of login-manager's second ratio;
 * - `login-manager`: the example's layout, the one the budget is about;
 * - `variant`: login-manager in another layout, reported with its ratios, not in the verdict;
 * - `peer`: another session package.
 */
export type Role = 'bare' | 'same-request' | 'login-manager' | 'variant' | 'peer'

export interface Contender {
  readonly key: ContenderKey
  readonly label: string
  readonly role: Role
  /** The server, relative to the repository root. */
  readonly file: string
  /** Headers of a logged-in client. Called before every measurement. */
  readonly prepare: (url: string) => Promise<Record<string, string>>
  /**
   * Load this contender with the headers another contender (its key) gets: that contender's
   * `prepare` is called against that contender's server, before every measurement.
   */
  readonly headersFrom?: ContenderKey
}

/** What {@link headersFor} needs of a contender (bench/run.ts's and bench/frameworks.ts's). */
export interface HeaderSource {
  readonly key: string
  readonly prepare: (url: string) => Promise<Record<string, string>>
  readonly headersFrom?: string
}

/**
 * The headers to load `contender` with: its own `prepare` against its own server, or, with
 * `headersFrom`, the other contender's `prepare` against the other contender's server (so a bare
 * server gets exactly the headers login-manager's server is loaded with). `urlOf` gives a
 * contender's server URL by key.
 */
export function headersFor(
  contender: HeaderSource,
  all: readonly HeaderSource[],
  urlOf: (key: string) => string,
): Promise<Record<string, string>> {
  if (contender.headersFrom === undefined) return contender.prepare(urlOf(contender.key))
  const source = all.find((c) => c.key === contender.headersFrom)
  if (source === undefined) {
    throw new Error(`${contender.key}: headersFrom ${contender.headersFrom} is not a contender`)
  }
  return source.prepare(urlOf(source.key))
}

/** Length in bytes of the Cookie header among `headers` (0 without one), for the report. */
export function cookieBytes(headers: Record<string, string>): number {
  const cookie = Object.entries(headers).find(([name]) => name.toLowerCase() === 'cookie')?.[1]
  return cookie === undefined ? 0 : Buffer.byteLength(cookie)
}

/** The `name=value` part of each Set-Cookie header, joined for a Cookie header. */
function cookieHeader(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';', 1)[0]!)
    .join('; ')
}

function get(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { headers: { 'user-agent': USER_AGENT, ...headers }, redirect: 'manual' })
}

/**
 * One request with the benchmark's headers must answer 200 with the logged-in body, and set no
 * cookie (otherwise every benchmark request would re-issue one: not the steady state measured).
 * @throws Error otherwise.
 */
export async function verify(
  contender: Pick<Contender, 'label'>,
  url: string,
  headers: Record<string, string>,
): Promise<void> {
  const response = await get(`${url}${PATH}`, headers)
  const body = await response.text()
  if (response.status !== 200 || body !== EXPECTED_BODY) {
    throw new Error(
      `${contender.label}: expected 200 ${JSON.stringify(EXPECTED_BODY)}, got ${response.status} ${JSON.stringify(body.slice(0, 200))}`,
    )
  }
  const setCookie = response.headers.getSetCookie()
  if (setCookie.length > 0) {
    throw new Error(`${contender.label}: a logged-in request still sets cookies: ${setCookie}`)
  }
}

/**
 * A framework's bare server twice: as the reference, with no cookie, and as "same request", loaded
 * with exactly the headers of the contender keyed `login-manager` (the Cookie header's own cost).
 */
export function bareContenders(label: string, file: string) {
  const none = async (): Promise<Record<string, string>> => ({})
  return [
    { key: 'bare', label, role: 'bare', file, prepare: none },
    {
      key: 'bare-same-request',
      label: `${label}, same request`,
      role: 'same-request',
      file,
      prepare: none,
      headersFrom: 'login-manager',
    },
  ] as const
}

/**
 * The Express contenders, in the order they run. `secret` must be the servers' BENCH_SECRET.
 */
export function contenders(secret: string): Contender[] {
  const loginManager = testLoginPrepare(secret)
  return [
    ...bareContenders('bare Express', 'bench/servers/bare.ts'),
    {
      key: 'login-manager',
      label: 'login-manager',
      role: 'login-manager',
      file: 'bench/servers/login-manager.ts',
      prepare: loginManager,
    },
    {
      key: 'floor',
      label: 'floor: the guard hand-written, no library',
      role: 'variant',
      file: 'bench/servers/floor.ts',
      prepare: loginManager,
    },
    {
      key: 'passport',
      label: 'passport + express-session',
      role: 'peer',
      file: 'bench/servers/passport.ts',
      prepare: async (url) => {
        const response = await fetch(`${url}/login`, {
          method: 'POST',
          headers: { 'user-agent': USER_AGENT, 'content-type': FORM_TYPE },
          body: LOGIN_FORM,
        })
        await response.text()
        const cookie = cookieHeader(response)
        if (response.status !== 200 || cookie === '') {
          throw new Error(`passport: login answered ${response.status} with no session cookie`)
        }
        return { cookie }
      },
    },
  ]
}

/**
 * login-manager's logged-in client: a `testLogin` session (minted here with the servers' secret
 * and the basic example's manager), bound by one request to the server at `url`, re-issued cookie
 * kept. Any login-manager server with the basic example's manager accepts it.
 */
export function testLoginPrepare(secret: string): (url: string) => Promise<Record<string, string>> {
  const manager = createBenchManager(secret)
  return async (url) => {
    // A testLogin session binds to the first client that uses it (session protection), which
    // re-seals it once; a browser keeps the re-issued cookie, and so does the benchmark. Done
    // before every run, so the session is never older than its touch interval (60 s): past
    // that, a client that ignores Set-Cookie would get its session re-sealed on every request.
    const minted = await testLogin(manager, new User('leafstorm'))
    const first = await get(`${url}${PATH}`, { cookie: minted })
    await first.text()
    if (first.status !== 200) {
      throw new Error(`login-manager: the testLogin cookie was refused (${first.status})`)
    }
    const bound = cookieHeader(first)
    return { cookie: bound === '' ? minted : bound }
  }
}
