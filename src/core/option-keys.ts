import { LoginManagerError } from '../shared/errors.ts'
import type { UserId } from '../shared/types.ts'
import type {
  ManagerOptions,
  RememberOptions,
  RevocationOptions,
  SessionOptions,
} from './options.ts'

// Every option name, checked against the option interfaces by the compiler (`satisfies`): an
// option added to an interface but not here, or listed here but not there, fails the typecheck.
const TOP = {
  secret: true,
  userLoader: true,
  requestLoader: true,
  anonymousUser: true,
  getUserId: true,
  sessionVersion: true,
  loginView: true,
  loginViews: true,
  refreshView: true,
  resolveEndpoint: true,
  loginMessage: true,
  loginMessageCategory: true,
  refreshMessage: true,
  refreshMessageCategory: true,
  localize: true,
  useSessionForNext: true,
  nextField: true,
  forceHostForRedirects: true,
  origin: true,
  allowedRedirectOrigins: true,
  exemptMethods: true,
  sessionProtection: true,
  negotiate: true,
  onUnauthorized: true,
  onNeedsRefresh: true,
  session: true,
  remember: true,
  revocation: true,
  now: true,
} as const satisfies Record<keyof ManagerOptions<object, UserId, unknown>, true>

const SESSION = {
  name: true,
  domain: true,
  path: true,
  secure: true,
  httpOnly: true,
  sameSite: true,
  idleTimeout: true,
  absoluteTimeout: true,
  touchInterval: true,
  store: true,
  onStoreError: true,
  keepOnLogin: true,
} as const satisfies Record<keyof SessionOptions, true>

const REMEMBER = {
  name: true,
  domain: true,
  path: true,
  secure: true,
  httpOnly: true,
  sameSite: true,
  duration: true,
  refreshEachRequest: true,
  format: true,
} as const satisfies Record<keyof RememberOptions, true>

const REVOCATION = {
  store: true,
  maxEntries: true,
  resyncInterval: true,
} as const satisfies Record<keyof RevocationOptions, true>

/** Every valid option as written in the docs: `loginView`, `session.idleTimeout`, … */
const ALL_NAMES: readonly string[] = [
  ...Object.keys(TOP),
  ...Object.keys(SESSION).map((key) => `session.${key}`),
  ...Object.keys(REMEMBER).map((key) => `remember.${key}`),
  ...Object.keys(REVOCATION).map((key) => `revocation.${key}`),
]

/**
 * Refuses option keys that `LoginManager` does not know, naming the nearest valid one.
 * TypeScript already rejects them in an object literal; this catches JavaScript callers and
 * options assembled at run time, where a typo (`loginview`) would otherwise be ignored.
 * @throws LoginManagerError `ERR_INVALID_OPTION`
 */
export function checkOptionKeys(input: object): void {
  check(input, '', TOP)
  const { session, remember, revocation } = input as Record<string, unknown>
  if (typeof session === 'object' && session !== null) check(session, 'session.', SESSION)
  if (typeof remember === 'object' && remember !== null) check(remember, 'remember.', REMEMBER)
  if (typeof revocation === 'object' && revocation !== null) {
    check(revocation, 'revocation.', REVOCATION)
  }
}

function check(input: object, prefix: string, known: Readonly<Record<string, true>>): void {
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(known, key)) continue
    const name = `${prefix}${key}`
    const nearest = nearestName(name)
    const hint =
      nearest === undefined
        ? `the ${prefix === '' ? '' : `${prefix.slice(0, -1)} `}options are ${Object.keys(known)
            .map((k) => `${prefix}${k}`)
            .join(', ')}`
        : `did you mean '${nearest}'?`
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `unknown option '${name}': ${hint} (see docs/configuration.md)`,
    )
  }
}

/**
 * The valid option closest to `name`: the same name in another case, a known name under
 * another parent (`store` → `session.store`), or one within a few typos.
 */
export function nearestName(name: string): string | undefined {
  const wanted = name.toLowerCase()
  const leaf = wanted.slice(wanted.lastIndexOf('.') + 1)
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of ALL_NAMES) {
    const lower = candidate.toLowerCase()
    const candidateLeaf = lower.slice(lower.lastIndexOf('.') + 1)
    // The right name at the wrong level counts as one typo.
    const distance = Math.min(
      editDistance(wanted, lower),
      candidateLeaf === leaf && lower !== wanted ? 1 : Number.POSITIVE_INFINITY,
    )
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  const allowed = leaf.length <= 4 ? 1 : Math.max(2, Math.floor(leaf.length / 3))
  return bestDistance <= allowed ? best : undefined
}

/** Optimal string alignment distance: insertions, deletions, substitutions, transpositions. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i])
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[]
    const above = rows[i - 1] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row[j] = value
    }
  }
  return (rows[a.length] as number[])[b.length] as number
}
