import { testLogin } from 'login-manager/testing'
import { createBenchManager, User } from './login-manager-app.ts'

/** The route every contender serves, and what a logged-in request gets back. */
export const PATH = '/protected'
export const EXPECTED_BODY = 'Logged in as: leafstorm'
/** Sent on every request: session protection binds the login-manager session to it. */
export const USER_AGENT = 'login-manager-bench/1'

export type ContenderKey = 'bare' | 'login-manager' | 'passport'

export interface Contender {
  readonly key: ContenderKey
  readonly label: string
  /** The server, relative to the repository root. */
  readonly file: string
  /** Headers of a logged-in client. Called before every measurement. */
  readonly prepare: (url: string) => Promise<Record<string, string>>
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
  contender: Contender,
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

/** The three contenders, in the order they run. `secret` must be the servers' BENCH_SECRET. */
export function contenders(secret: string): Contender[] {
  const manager = createBenchManager(secret)
  return [
    {
      key: 'bare',
      label: 'bare Express',
      file: 'bench/servers/bare.ts',
      prepare: async () => ({}),
    },
    {
      key: 'login-manager',
      label: 'login-manager',
      file: 'bench/servers/login-manager.ts',
      prepare: async (url) => {
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
      },
    },
    {
      key: 'passport',
      label: 'passport + express-session',
      file: 'bench/servers/passport.ts',
      prepare: async (url) => {
        const response = await fetch(`${url}/login`, {
          method: 'POST',
          headers: { 'user-agent': USER_AGENT },
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
